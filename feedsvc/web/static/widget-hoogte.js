/* In the iframe widget (/embed/…): tells the page around it how tall the widget is, so that the
 * host's optional /embed-hoogte.js can fit the frame to it. The height is no secret, so any
 * parent may hear it; the host's script decides whom to believe. */
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    var box = document.querySelector(".fw");
    if (box) {
      height = Math.ceil(box.getBoundingClientRect().bottom + window.scrollY);
    }
    if (height !== last) {
      last = height;
      window.parent.postMessage({ feedsvc: "hoogte", hoogte: height }, "*");
    }
  }
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(report).observe(document.documentElement);
  }
  window.addEventListener("load", report);
  report();
})();
