// Partner sites: <script src=".../static/embed.js" data-campaign="slug" async></script> puts the
// campaign's three steps in an <iframe> where the script tag stands, and keeps its height in
// step with the content. Without JavaScript the snippet's own <iframe> fallback shows instead.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.campaign) return;
  var origin = new URL(script.src).origin;
  var src = origin + "/embed/c/" + encodeURIComponent(script.dataset.campaign);
  if (script.dataset.lang) src += "?lang=" + encodeURIComponent(script.dataset.lang);
  var frame = document.createElement("iframe");
  frame.src = src;
  frame.title = script.dataset.title || "Take action";
  frame.loading = "lazy";
  frame.style.cssText = "width:100%;min-height:40rem;border:0;display:block";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    if (data && data.actionwave === "height" && data.height > 0 && data.height < 20000) {
      frame.style.height = data.height + "px";
    }
  });
})();
