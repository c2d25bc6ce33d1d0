// Live updates: the server names a topic (plugins, counts, sessions,
// fleet) when it changed; the page fetches itself again and swaps each
// region marked data-live with that topic. Nothing else runs; without
// JavaScript (or past the server's stream cap) the pages are the same,
// only not live.
"use strict";
(function () {
  var main = document.getElementById("main");
  var topics = main && main.getAttribute("data-live-topics");
  if (!topics || !window.EventSource) return;
  var busy = false, again = false;
  function refresh(topic) {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live~='" + topic + "']").forEach(function (old) {
          var fresh = old.id && doc.getElementById(old.id);
          if (!fresh || old.contains(document.activeElement)) return;
          old.replaceWith(document.importNode(fresh, true));
        });
      })
      .catch(function () {})
      .finally(function () { busy = false; if (again) { again = false; refresh(topic); } });
  }
  var es = new EventSource("/events?topics=" + encodeURIComponent(topics.split(" ").join(",")));
  es.addEventListener("change", function (e) { refresh(e.data); });
})();
