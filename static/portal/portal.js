// Toasts for Django messages delivered after HTMX requests (see HtmxMessagesMiddleware).
(function () {
  "use strict";
  function showToasts(messages) {
    var region = document.getElementById("toasts");
    if (!region || !messages || !messages.length) { return; }
    var list = region.querySelector("ul.messagelist");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messagelist";
      region.appendChild(list);
    }
    messages.forEach(function (m) {
      var item = document.createElement("li");
      item.className = m.level;
      item.textContent = m.message;
      list.appendChild(item);
      window.setTimeout(function () { if (!item.dataset.keep) { item.classList.add("toast-fade"); } }, 6000);
      window.setTimeout(function () { if (!item.dataset.keep) { item.remove(); } }, 7000);
    });
  }
  document.addEventListener("messages", function (event) { showToasts(event.detail.value); });
  // A decision from the queue: a toast with Undo for the minute its email waits (issue 20).
  document.addEventListener("decisionMade", function (event) {
    var d = event.detail.value || event.detail;
    var region = document.getElementById("toasts");
    if (!region || !d || !d.undo) { return; }
    showToasts([{ level: "success", message: d.message }]);
    var item = region.querySelector("ul.messagelist li:last-child");
    if (!item) { return; }
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "toast-undo";
    undo.textContent = "Undo";
    undo.addEventListener("click", function () {
      undo.disabled = true;
      window.htmx.ajax("POST", d.undo, {
        source: undo, target: "#" + d.row, swap: "outerHTML", values: d.values || {}
      })
        .then(function () { item.remove(); });
    });
    item.appendChild(document.createTextNode(" "));
    item.appendChild(undo);
    // The toast stays for the minute (not the usual seven seconds), then goes with the chance.
    item.dataset.keep = "1";
    window.setTimeout(function () { item.remove(); }, (d.seconds || 60) * 1000);
  });
  // Move focus to an error summary when one appears (full page or swapped in).
  function focusErrors(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrors(event.target); });

  // A swap that replaces the focused element (a decided queue row, a refreshed list) would
  // drop focus to the page's start: put it back on the same element, or on what replaced it.
  // Another swap (the counters a decision refreshes) may come between this swap and its
  // settle: it neither forgets the focus to restore nor takes it over.
  var lostFocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    if (target && active && active !== document.body && target.contains(active)) {
      lostFocus = { id: active.id, targetId: target.id };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!lostFocus) { return; }
    if (document.activeElement && document.activeElement !== document.body) {
      lostFocus = null;  // focus is somewhere on purpose: leave it there
      return;
    }
    var wanted = lostFocus;
    var next = (wanted.id && document.getElementById(wanted.id)) || document.getElementById(wanted.targetId);
    if (!next) { return; }  // not swapped in yet: its own settle comes later
    lostFocus = null;
    if (next.tabIndex < 0 && !next.hasAttribute("tabindex")) { next.setAttribute("tabindex", "-1"); }
    next.focus();
  });

  // A table wider than its box scrolls sideways: keyboard users need to reach that scroll,
  // so such a box becomes a named, focusable region (WCAG 2.1.1).
  function markScrollRegions() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth + 1) { return; }
      if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); }
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption");
      if (caption && !box.hasAttribute("aria-label")) {
        box.setAttribute("aria-label", caption.textContent.trim() + " (scrolls sideways)");
      }
    });
  }
  var resizeTimer = null;
  document.addEventListener("DOMContentLoaded", markScrollRegions);
  document.addEventListener("htmx:afterSettle", markScrollRegions);
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(markScrollRegions, 200);
  });

  // The queue's "Decide" fetches its row expanded with the decision (issue 20): one delegated
  // handler, so the list carries no URL or form per row. The decide URL is the row's
  // application URL (its reference link) plus "decide/".
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-decide]");
    if (!button || !window.htmx) { return; }
    var row = button.closest("tr");
    var link = row && row.querySelector("th a");
    if (!link) { return; }
    var id = row.id;
    window.htmx.ajax("GET", link.getAttribute("href") + "decide/", { target: row, swap: "outerHTML" })
      .then(function () {
        var field = document.querySelector("#" + id + " input[name=message]");
        if (field) { field.focus(); }
      });
  });
})();
