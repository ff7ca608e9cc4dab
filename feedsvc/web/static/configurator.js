/* "Op je eigen site": rebuilds the embed code and its previews when the options change. The
 * code is built exactly as embed.py's embed_code builds it, from the numbers and addresses the
 * page carries; the previews are that very code. Without this script the page shows the
 * default code, and the form stays hidden. */
(function () {
  "use strict";
  var form = document.getElementById("instellen");
  if (!form) {
    return;
  }
  var data = form.dataset;
  var escape = function (text) {
    // As Python's html.escape: the code shown must be the code the server offers.
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  };
  var countInput = document.getElementById("aantal");
  var max = Number(countInput.max);

  function options() {
    var count = parseInt(countInput.value, 10);
    if (!(count >= 1 && count <= max)) {
      count = 5;
    }
    var checked = form.querySelector("input[name=stijl]:checked");
    return { count: count, style: checked ? checked.value : "volledig" };
  }

  function code(opts) {
    var compact = opts.style === "compact";
    var query = "aantal=" + opts.count + (compact ? "&stijl=compact" : "");
    var height = compact
      ? Number(data.compactBase) + opts.count * Number(data.compactItem)
      : Number(data.fullBase) + opts.count * Number(data.fullItem);
    return {
      iframe: '<iframe src="' + escape(data.widgetUrl + "?" + query) + '" title="' +
        escape(data.title) + '" width="100%" height="' + height +
        '" loading="lazy" style="border:0"></iframe>',
      script: '<script src="' + escape(data.scriptUrl) + '" data-feed="' + escape(data.jsonUrl) +
        '" data-aantal="' + opts.count + '"' + (compact ? ' data-stijl="compact"' : "") +
        " async></" + "script>"
    };
  }

  function show(id, text) {
    var element = document.getElementById(id);
    element.textContent = text;
    var button = element.closest(".code-block").querySelector("button.copy");
    if (button) {
      button.setAttribute("data-copy", text);
    }
  }

  function scriptPreview(opts) {
    // A new script element: embed.js renders where it stands, once.
    var holder = document.getElementById("voorbeeld-script");
    holder.textContent = "";
    var tag = document.createElement("script");
    tag.src = data.scriptUrl;
    tag.setAttribute("data-feed", data.jsonUrl);
    tag.setAttribute("data-aantal", String(opts.count));
    if (opts.style === "compact") {
      tag.setAttribute("data-stijl", "compact");
    }
    tag.async = true;
    holder.appendChild(tag);
  }

  function update() {
    var opts = options();
    var built = code(opts);
    show("code-iframe", built.iframe);
    show("code-script", built.script);
    document.getElementById("voorbeeld-iframe").innerHTML = built.iframe;
    scriptPreview(opts);
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  countInput.addEventListener("change", update);
  form.querySelectorAll("input[name=stijl]").forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  document.getElementById("kies-feed").addEventListener("change", function (event) {
    window.location.href = event.target.value;
  });
})();
