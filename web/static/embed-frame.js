// Inside the partner's <iframe>: tell the page that framed us how tall we are, so it can size
// the frame without a scrollbar. Only a height is sent; the loader checks where it came from.
(function () {
  "use strict";
  if (window.parent === window || !window.ResizeObserver) return;
  var last = 0;
  new ResizeObserver(function () {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ actionwave: "height", height: height }, "*");
  }).observe(document.body);
})();
