/* Copy buttons: <button class="copy" data-copy="…" hidden>. They stay hidden without this script,
 * so a button never does nothing; read-only address fields select themselves when clicked. */
(function () {
  "use strict";

  function fallbackCopy(text) {
    // For pages served over plain http, where navigator.clipboard is not available.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    area.remove();
    return copied ? Promise.resolve() : Promise.reject(new Error("kopiëren mislukt"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  function flash(button, message, className) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = message;
    button.classList.add(className);
    window.clearTimeout(Number(button.getAttribute("data-timer")));
    button.setAttribute("data-timer", String(window.setTimeout(function () {
      button.textContent = label;
      button.classList.remove(className);
    }, 2000)));
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.getAttribute("data-copy")).then(
        function () { flash(button, "Gekopieerd ✓", "done"); },
        function () { flash(button, "Selecteer en kopieer zelf", "failed"); }
      );
    });
  });

  document.querySelectorAll("input.url[readonly]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // One status line for screen readers, announced when something was copied.
  var status = document.createElement("p");
  status.className = "offscreen";
  status.setAttribute("role", "status");
  document.body.appendChild(status);
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (button) {
      window.setTimeout(function () { status.textContent = button.textContent; }, 100);
    }
  });
})();
