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
      window.setTimeout(function () { item.classList.add("toast-fade"); }, 6000);
      window.setTimeout(function () { item.remove(); }, 7000);
    });
  }
  document.addEventListener("messages", function (event) { showToasts(event.detail.value); });
  // Move focus to an error summary when one appears (full page or swapped in).
  function focusErrors(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrors(event.target); });
})();
