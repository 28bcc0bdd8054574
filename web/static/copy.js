// The "Copy the message" buttons: without JavaScript the textarea is there to select by hand.
document.querySelectorAll("button.copy-button").forEach((button) => {
  const box = document.getElementById(button.dataset.copy);
  if (!box) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    box.select();
    try {
      await navigator.clipboard.writeText(box.value);
    } catch {
      document.execCommand("copy");
    }
    button.textContent = button.dataset.copied || button.textContent;
  });
});
