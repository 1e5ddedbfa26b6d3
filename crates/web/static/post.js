/* Socializioz — a post's page follows its publishing.
   While the post is being published, asks the post's status route every 2 seconds and puts
   the post's and each account's state on the page; when nothing is going out any more, loads
   the page again, which shows the outcome with its links and actions. Without this file the
   page's "Refresh" link does the same by hand. */
(function () {
  'use strict';

  const box = document.querySelector('[data-post-status]');
  if (!box || !window.fetch) {
    return;
  }
  const url = box.getAttribute('data-status-url');
  const EVERY = 2000;

  function setBadge(el, item) {
    if (!el) return;
    el.textContent = item.label;
    el.className = 'badge state-' + item.class;
  }

  function show(status) {
    setBadge(document.querySelector('[data-post-state]'), status);
    status.targets.forEach(function (t) {
      const row = document.getElementById('target-' + t.id);
      if (!row) return;
      setBadge(row.querySelector('[data-target-state]'), t);
      const attempts = row.querySelector('[data-target-attempts]');
      if (attempts) attempts.textContent = String(t.attempts);
    });
  }

  function poll() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('status ' + res.status);
        return res.json();
      })
      .then(function (status) {
        show(status);
        if (status.publishing) {
          window.setTimeout(poll, EVERY);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        /* Try again a little later; the "Refresh" link still works. */
        window.setTimeout(poll, EVERY * 3);
      });
  }

  window.setTimeout(poll, EVERY);
})();
