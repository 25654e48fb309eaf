// Progressive enhancement for the vote pages (the pages work without it):
// a live counter of the projects, euros or points left on the ballot; Confirm sent once;
// print and copy buttons for the receipt.
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";
  var money = new Intl.NumberFormat(en ? "en-GB" : "fr-FR", {style: "currency", currency: "EUR"});
  function euros(cents) { return money.format(cents / 100); }

  var form = document.querySelector("form[data-vote-counter]");
  var counter = document.getElementById("vote-counter");
  if (form && counter) {
    var format = form.dataset.format;
    var budget = parseInt(form.dataset.budget, 10) || 0;
    var max = parseInt(form.dataset.max, 10) || 0;
    var points = parseInt(form.dataset.points, 10) || 0;
    var min = parseInt(form.dataset.min, 10) || 0;
    var update = function () {
      var text;
      if (format === "cumulative") {
        var used = 0, projects = 0;
        form.querySelectorAll("input.points").forEach(function (input) {
          var v = parseInt(input.value, 10);
          if (v > 0) { used += v; projects += 1; }
        });
        var left = points - used;
        text = en ? used + " points given to " + projects + " project(s); "
                  : used + " points donnés à " + projects + " projet(s) ; ";
        if (points) {
          text += left >= 0 ? (en ? left + " left." : "reste " + left + ".")
                            : (en ? (-left) + " too many." : (-left) + " de trop.");
        }
        if (min && projects < min) {
          text += en ? " At least " + min + " projects." : " Au moins " + min + " projets.";
        }
      } else {
        var chosen = form.querySelectorAll("input[name=project]:checked");
        var total = 0;
        chosen.forEach(function (box) { total += parseInt(box.dataset.cost, 10) || 0; });
        if (format === "knapsack") {
          var rest = budget - total;
          text = en ? "Chosen: " + euros(total) + "; " : "Choisis : " + euros(total) + " ; ";
          text += rest >= 0 ? (en ? euros(rest) + " left in the envelope."
                                  : "reste " + euros(rest) + " dans l’enveloppe.")
                            : (en ? euros(-rest) + " over the envelope: remove a project."
                                  : euros(-rest) + " de plus que l’enveloppe : retirez un projet.");
        } else {
          text = en ? chosen.length + " project(s) chosen"
                    : chosen.length + " projet(s) choisi(s)";
          if (max) {
            var remaining = max - chosen.length;
            text += remaining >= 0 ? (en ? "; " + remaining + " left." : " ; reste " + remaining + ".")
                                   : (en ? "; " + (-remaining) + " too many." : " ; " + (-remaining) + " de trop.");
          } else {
            text += ".";
          }
        }
      }
      counter.textContent = text;
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    counter.hidden = false;
    update();
  }

  // Confirm once: a second click does nothing (the server also shows the same receipt).
  var confirm = document.querySelector("form[data-confirm-once]");
  if (confirm) {
    confirm.addEventListener("submit", function (event) {
      if (confirm.dataset.sent) { event.preventDefault(); return; }
      confirm.dataset.sent = "1";
      var button = confirm.querySelector("[type=submit]");
      if (button) { button.setAttribute("aria-disabled", "true"); }
    });
  }

  var tools = document.querySelector("[data-receipt-tools]");
  var code = document.getElementById("receipt");
  if (tools && code) {
    var status = document.createElement("span");
    status.setAttribute("role", "status");
    var print = document.createElement("button");
    print.type = "button";
    print.textContent = en ? "Print this page" : "Imprimer cette page";
    print.addEventListener("click", function () { window.print(); });
    tools.appendChild(print);
    if (navigator.clipboard) {
      var copy = document.createElement("button");
      copy.type = "button";
      copy.className = "secondary";
      copy.textContent = en ? "Copy the code" : "Copier le code";
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent).then(function () {
          status.textContent = en ? "Code copied." : "Code copié.";
        }, function () {
          status.textContent = en ? "Could not copy: select the code and copy it."
                                  : "Copie impossible : sélectionnez le code et copiez-le.";
        });
      });
      tools.appendChild(document.createTextNode(" "));
      tools.appendChild(copy);
    }
    tools.appendChild(document.createTextNode(" "));
    tools.appendChild(status);
  }
}());
