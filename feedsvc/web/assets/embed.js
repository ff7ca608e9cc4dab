/* feedsvc embed: shows a feed's latest items in any web page with one script tag.
 *
 *   <script src="https://nieuws.example.nl/embed.js"
 *           data-feed="https://nieuws.example.nl/feeds/categorie/nieuws.json" async></script>
 *
 * The items appear where the script tag stands. Optional attributes:
 *   data-aantal        how many items, 1 to 50 (default 5)
 *   data-stijl         "volledig" (default) or "compact"
 *   data-samenvatting  "ja" or "nee": show summaries (default: ja when volledig)
 *   data-datum         "ja" or "nee": show dates (default: ja)
 *   data-bron          "ja" or "nee": show the source (default: ja when volledig)
 *
 * The widget lives in a shadow root, so the page's CSS does not reach it and its CSS does not
 * reach the page; it defines no globals. Feed text is only ever set as textContent, links are
 * only http(s) URLs, and the items' HTML content is never used.
 */
(function () {
  "use strict";

  var CSS = "__WIDGET_CSS__";
  var MAX_COUNT = 50;
  var MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
    "september", "oktober", "november", "december"];

  var script = document.currentScript;
  if (!script || !script.parentNode) {
    return; // run as a module or from the console: no script element to stand in for
  }
  var attr = function (name) {
    var value = script.getAttribute("data-" + name);
    return value === null ? "" : value.trim().toLowerCase();
  };
  var warn = function (message) {
    if (window.console) {
      window.console.warn("feedsvc embed: " + message);
    }
  };

  // Mistakes in the embed code are shown where the news would be, so the webmaster sees them.
  var problems = [];
  var feedUrl = null;
  try {
    feedUrl = new URL(script.getAttribute("data-feed") || "", script.src || document.baseURI);
  } catch (error) {
    feedUrl = null;
  }
  if (!script.getAttribute("data-feed")) {
    problems.push("data-feed ontbreekt: zet daar het adres van een JSON Feed, zoals .../feeds/all.json.");
  } else if (!feedUrl || !/^https?:$/.test(feedUrl.protocol)) {
    problems.push("data-feed moet het adres van een JSON Feed zijn, zoals .../feeds/all.json.");
  }

  var flag = function (name, fallback) {
    var value = attr(name);
    if (value === "") {
      return fallback;
    }
    if (value === "ja" || value === "1" || value === "true") {
      return true;
    }
    if (value === "nee" || value === "0" || value === "false") {
      return false;
    }
    problems.push("data-" + name + " moet ja of nee zijn.");
    return fallback;
  };
  var style = attr("stijl") || "volledig";
  if (style !== "volledig" && style !== "compact") {
    problems.push("data-stijl moet volledig of compact zijn.");
    style = "volledig";
  }
  var count = 5;
  if (attr("aantal") !== "") {
    count = /^[0-9]{1,3}$/.test(attr("aantal")) ? parseInt(attr("aantal"), 10) : 0;
    if (count < 1 || count > MAX_COUNT) {
      problems.push("data-aantal moet een geheel getal van 1 tot en met " + MAX_COUNT + " zijn.");
      count = 5;
    }
  }
  var show = {
    summaries: flag("samenvatting", style === "volledig"),
    dates: flag("datum", true),
    sources: flag("bron", style === "volledig")
  };

  // The element the widget lives in; a custom element name no page styles by accident.
  var host = document.createElement("feedsvc-nieuws");
  script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  if (root !== host && "adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
    // A constructed stylesheet also works on pages whose CSP forbids inline <style>.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var styleElement = document.createElement("style");
    styleElement.textContent = CSS;
    root.appendChild(styleElement);
  }

  var element = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  };
  var text = function (value) {
    return typeof value === "string" ? value : "";
  };
  var safeUrl = function (value) {
    // Only http(s) links: a "javascript:" or "data:" URL in a feed never becomes a link.
    if (typeof value !== "string" || value === "") {
      return null;
    }
    try {
      var url = new URL(value, feedUrl);
      return /^https?:$/.test(url.protocol) ? url.href : null;
    } catch (error) {
      return null;
    }
  };
  var link = function (className, href, label) {
    var url = safeUrl(href);
    var node = element(url ? "a" : "span", className, label);
    if (url) {
      node.href = url;
      node.target = "_blank";
      node.rel = "noopener";
    }
    return node;
  };
  var dutchDate = function (value) {
    // The date as written in the feed, in the publisher's time zone: "28 oktober 2024".
    var match = /^(\d{4})-(\d{2})-(\d{2})T/.exec(text(value));
    var month = match ? parseInt(match[2], 10) : 0;
    return month >= 1 && month <= 12
      ? parseInt(match[3], 10) + " " + MONTHS[month - 1] + " " + match[1]
      : "";
  };
  var sourceOf = function (item) {
    var bron = item._bron;
    if (bron && typeof bron === "object" && text(bron.name)) {
      return text(bron.name);
    }
    var authors = Array.isArray(item.authors) ? item.authors : [];
    return authors.length && authors[0] ? text(authors[0].name) : "";
  };

  var box = element("div", "fw fw-" + style);
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", "Nieuws");
  root.appendChild(box);
  if (problems.length) {
    box.appendChild(element("p", "fw-kop", "Deze nieuwswidget is niet goed ingesteld"));
    problems.forEach(function (problem) {
      box.appendChild(element("p", "fw-fout", problem));
      warn(problem);
    });
    return;
  }
  box.setAttribute("aria-busy", "true");
  box.appendChild(element("p", "fw-leeg", "Nieuws laden…"));

  var render = function (feed) {
    var title = text(feed.title).split(" -> ").join(" › ") || "Nieuws";
    var items = Array.isArray(feed.items) ? feed.items.slice(0, count) : [];
    box.textContent = "";
    box.setAttribute("aria-label", title);
    var heading = element("p", "fw-kop");
    heading.appendChild(link("", feed.home_page_url, title));
    box.appendChild(heading);
    if (!items.length) {
      box.appendChild(element("p", "fw-leeg", "Nog geen berichten."));
    }
    var list = element("ol", "fw-items");
    items.forEach(function (item) {
      if (!item || typeof item !== "object") {
        return;
      }
      // The same rows as the iframe widget (templates/embed.html), for the same stylesheet.
      var entry = element("li", "fw-item");
      var row = element("div", "fw-regel");
      entry.appendChild(row);
      row.appendChild(link("fw-titel", item.url, text(item.title) || "(zonder titel)"));
      var meta = element("span", "fw-meta");
      var date = show.dates ? dutchDate(item.date_published) : "";
      if (date) {
        var time = element("time", "", date);
        time.setAttribute("datetime", text(item.date_published));
        meta.appendChild(time);
      }
      var source = show.sources ? sourceOf(item) : "";
      if (source) {
        meta.appendChild(element("span", "fw-bron", source));
      }
      if (show.dates || show.sources) {
        row.appendChild(meta);
      }
      if (show.summaries) {
        entry.appendChild(element("p", "fw-samenvatting", text(item.summary)));
      }
      list.appendChild(entry);
    });
    if (items.length) {
      box.appendChild(list);
    }
    var footer = element("p", "fw-voet");
    var author = Array.isArray(feed.authors) && feed.authors[0] ? text(feed.authors[0].name) : "";
    footer.appendChild(link("", feed.home_page_url, author ? "Meer nieuws van " + author : "Meer nieuws"));
    box.appendChild(footer);
    box.removeAttribute("aria-busy");
  };

  var fail = function (error) {
    box.textContent = "";
    box.removeAttribute("aria-busy");
    box.appendChild(element("p", "fw-fout", error && error.shown ? error.shown : "Het nieuws kon niet worden geladen."));
    warn(String(error && error.message ? error.message : error));
  };

  window.fetch(feedUrl.href, { credentials: "omit", mode: "cors" })
    .then(function (response) {
      if (!response.ok) {
        var problem = new Error(feedUrl.href + " gaf HTTP " + response.status);
        problem.shown = response.status === 404
          ? "Deze feed bestaat niet: kijk het adres in data-feed na."
          : "Het nieuws kon niet worden geladen (HTTP " + response.status + ").";
        throw problem;
      }
      return response.json();
    })
    .then(function (feed) {
      if (!feed || typeof feed !== "object") {
        throw new Error(feedUrl.href + " is geen JSON Feed");
      }
      render(feed);
    })
    .catch(fail);
})();
