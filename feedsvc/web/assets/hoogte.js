/* feedsvc: fits the news iframes on this page to their content. Optional: without it, an
 * iframe keeps the height written in its embed code, which already fits.
 *
 *   <script src="https://nieuws.example.nl/embed-hoogte.js" async></script>
 *
 * It believes only messages sent by a frame of this page showing the news site's origin. */
(function () {
  "use strict";
  var ORIGIN = "__SITE_ORIGIN__";
  window.addEventListener("message", function (event) {
    if (event.origin !== ORIGIN) {
      return;
    }
    var data = event.data;
    if (!data || typeof data !== "object" || data.feedsvc !== "hoogte") {
      return;
    }
    var height = data.hoogte;
    if (typeof height !== "number" || !isFinite(height) || height < 20 || height > 20000) {
      return;
    }
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.ceil(height) + "px";
        return;
      }
    }
  });
})();
