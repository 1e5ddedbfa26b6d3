/* Socializioz — the data export's progress on the privacy settings page.
   Polls the status route while an export is being made and moves the progress bar; when it is
   ready (or failed) the page is loaded again, which shows the download link. Without this
   file the page works the same: its "Check again" link reloads it. */
(function () {
  'use strict';

  const box = document.querySelector('[data-export-status]');
  if (!box || !window.fetch) {
    return;
  }
  const url = box.getAttribute('data-status-url');
  const bar = box.querySelector('progress');
  const label = box.querySelector('[data-export-percent]');
  const EVERY = 1000;

  function show(status) {
    if (status.total > 0) {
      bar.max = status.total;
      bar.value = Math.min(status.done, status.total);
      bar.textContent = status.percent + '%';
    }
    label.textContent = status.percent + '%';
  }

  function poll() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) {
          throw new Error('status ' + res.status);
        }
        return res.json();
      })
      .then(function (status) {
        show(status);
        if (status.running) {
          window.setTimeout(poll, EVERY);
        } else {
          if (window.location.pathname === '/settings/privacy') {
            window.location.reload();
          } else {
            window.location.assign('/settings/privacy#export');
          }
        }
      })
      .catch(function () {
        /* Try again a little later; the "Check again" link still works. */
        window.setTimeout(poll, EVERY * 5);
      });
  }

  window.setTimeout(poll, EVERY);
})();
