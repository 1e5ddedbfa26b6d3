/* Socializioz — the composer's Assist, streamed: AI Write and Enhance show the text as the model
   writes it, then the suggestions (the same markup the server renders without this file).
   Without this file, or when anything here fails to start, each button is a plain form
   round trip; "Use this" always is one. */
(function () {
  'use strict';

  const panel = document.getElementById('assist');
  const form = panel && panel.closest('form');
  if (!form || !panel.dataset.streamUrl || !window.fetch || !window.TextDecoder ||
      !window.ReadableStream) {
    return;
  }
  const live = document.getElementById('assist-live');
  const buttons = Array.from(panel.querySelectorAll('button[value^="assist-"]'));
  let busy = false;

  function setBusy(on) {
    busy = on;
    panel.setAttribute('aria-busy', on ? 'true' : 'false');
    buttons.forEach((b) => { b.disabled = on; });
  }

  function showError(message) {
    let p = document.getElementById('f-assist');
    if (!p) {
      p = document.createElement('p');
      p.id = 'f-assist';
      p.className = 'field-error';
      p.setAttribute('role', 'alert');
      const hint = panel.querySelector('.hint');
      (hint || panel.firstElementChild).after(p);
    }
    p.textContent = message;
  }

  function clearError() {
    const p = document.getElementById('f-assist');
    if (p) { p.remove(); }
  }

  function showSuggestions(html) {
    const holder = document.createElement('div');
    holder.innerHTML = html;
    const fresh = holder.firstElementChild;
    const old = document.getElementById('suggestions');
    if (old) { old.replaceWith(fresh); } else { live.after(fresh); }
    live.hidden = true;
    live.textContent = '';
    const first = fresh.querySelector('button');
    if (first) { first.focus(); }
  }

  // One server-sent event: its name and its JSON data.
  function handle(block) {
    let name = 'message';
    let data = '';
    block.split('\n').forEach((line) => {
      if (line.startsWith('event:')) { name = line.slice(6).trim(); }
      if (line.startsWith('data:')) { data += line.slice(5).trim(); }
    });
    const value = data ? JSON.parse(data) : {};
    if (name === 'text') {
      live.hidden = false;
      live.textContent += value.text;
    } else if (name === 'done') {
      showSuggestions(value.html);
    } else if (name === 'failed') {
      live.hidden = true;
      showError(value.message);
    }
  }

  async function run(button) {
    const data = new URLSearchParams(new FormData(form));
    data.set('action', button.value);
    live.textContent = '';
    live.hidden = true;
    clearError();
    setBusy(true);
    try {
      const res = await fetch(panel.dataset.streamUrl, {
        method: 'POST',
        body: data,
        credentials: 'same-origin',
        headers: { Accept: 'text/event-stream' },
      });
      if (!res.ok) {
        const refusal = await res.json().catch(() => null);
        showError((refusal && refusal.message) || 'Assist could not answer. Try again.');
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) { break; }
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      showError('The connection broke before the answer came. Nothing was changed; try again.');
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener('submit', (event) => {
    const button = event.submitter;
    if (!button || buttons.indexOf(button) < 0) { return; }
    event.preventDefault();
    if (!busy) { run(button); }
  });
})();
