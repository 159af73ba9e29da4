/*
 * The chat window, loaded on first open by loader.js (`import()` of /widget-chat.js).
 * markdown.js, sse.js and lead.js are concatenated before this file by the build; everything
 * shares one module scope. All bot and model text goes through textContent or renderMarkdown.
 */

var CHAT_CSS = '__CHAT_CSS__';

var STRINGS = {
  title: 'Chat',
  openLabel: 'Open chat',
  closeLabel: 'Close chat',
  newLabel: 'New conversation',
  sendLabel: 'Send',
  stopLabel: 'Stop the answer',
  stopped: 'Stopped',
  placeholder: 'Type your message\u2026',
  inputLabel: 'Your message',
  typing: 'The assistant is typing',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
  sources: 'Sources',
  page: 'page',
  retry: 'Try again',
  errorNetwork: 'Could not reach the assistant. Check your connection and try again.',
  errorRate: 'Too many messages right now. Please wait a moment and try again.',
  errorTooLong: 'That message is too long. Please shorten it.',
  errorQuota: 'This assistant is not available right now. Please try again later.',
  errorServer: 'Something went wrong while answering. Please try again.',
  handoffWaiting: 'Waiting for a person\u2026 Someone will reply here soon.',
  handoffWith: 'With {name}',
  handoffBot: 'Back to the bot',
  handoffClosed: 'This conversation was closed. Write to start again.',
  operator: 'Support',
  errorIdentity: 'Your sign-in could not be verified, so the chat is not available. Please reload the page or sign in again.',
  leadTitle: 'Your contact details',
  leadNote: 'Fields marked * are required.',
  leadSend: 'Send details',
  leadLater: 'Not now',
  leadThanks: 'Thank you! We have your details.',
  leadPreview: '(Preview: nothing was sent.)',
  leadRequired: '{label} is required.',
  leadEmail: 'Enter an email address like name@example.com.',
  leadPhone: 'Enter a phone number with 6 to 20 digits, like +1 555 123 4567.',
  leadConsent: 'Please tick the box to agree before sending.',
  leadChoose: 'Choose\u2026',
  leadFirst: 'Please fill in the form above first',
  privacy: 'Privacy policy',
  newTab: '(opens in a new tab)',
  toolWorking: 'Working on it\u2026',
  toolFailed: 'Could not finish this step: {label}',
  confirmTitle: 'Please confirm',
  approve: 'Approve',
  decline: 'Decline',
  approved: 'Approved',
  declined: 'Declined',
  confirmSkipped: 'Not answered'
};

var ICONS = {
  close: ['M6 6l12 12M18 6L6 18', true],
  reset: ['M12 5v14M5 12h14', true],
  stop: ['M7 7h10v10H7z', false],
  send: ['M3.5 11.2 19.6 4.1c.7-.3 1.4.4 1.1 1.1l-7.1 16.1c-.3.7-1.3.6-1.5-.1l-1.8-6.5-6.5-1.8c-.7-.2-.8-1.2-.1-1.5z', false],
  up: ['M7 10v10M7 10l4.5-7c1.6 0 2.6 1.2 2.2 2.8L13 9h5.3c1.3 0 2.2 1.2 1.9 2.4l-1.6 6.8c-.2.9-1 1.8-2 1.8H7', true]
};

function icon(name) {
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', ICONS[name][1] ? 'mp-stroke' : 'mp-fill');
  var path = svg.appendChild(document.createElementNS(ns, 'path'));
  path.setAttribute('d', ICONS[name][0]);
  return svg;
}

function iconButton(className, label, name) {
  var button = el('button', 'mp-icon ' + className);
  button.type = 'button';
  button.tabIndex = 0; // Safari leaves buttons out of the Tab order unless they say so
  button.setAttribute('aria-label', label);
  button.title = label;
  button.appendChild(icon(name));
  return button;
}

// The server's pattern: ours are 32 hex digits, a verified visitor's (the server's) differ.
var SESSION_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

function storageKey(botId) {
  return 'modelpilot:' + botId + ':session';
}

function readSession(botId) {
  try {
    var id = window.localStorage.getItem(storageKey(botId));
    return SESSION_PATTERN.test(id || '') ? id : null;
  } catch (error) {
    return null; // storage blocked (private mode, sandboxed frame): the session lives in memory
  }
}

function writeSession(botId, id) {
  try {
    if (id) window.localStorage.setItem(storageKey(botId), id);
    else window.localStorage.removeItem(storageKey(botId));
  } catch (error) {
    // storage blocked: nothing to persist to
  }
}

function newSessionId() {
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
}

function buildHeader(w, win) {
  var header = win.appendChild(el('header', 'mp-header'));
  var title = header.appendChild(el('h2', 'mp-title', w.config.botName || w.t.title));
  title.id = 'mp-title';
  win.setAttribute('aria-labelledby', 'mp-title');
  var handoff = w.config.handoff;
  if (handoff && handoff.enabled) {
    // The visitor's way to a person; hidden while one is already on the way or here.
    var ask = header.appendChild(el('button', 'mp-handoff-btn', handoff.button_label || 'Talk to a person'));
    ask.type = 'button';
    ask.tabIndex = 0;
    w.ui.handoff = ask;
  }
  w.ui.reset = header.appendChild(iconButton('mp-reset', w.t.newLabel, 'reset'));
  if (!w.inline) w.ui.close = header.appendChild(iconButton('mp-close', w.t.closeLabel, 'close'));
}

function buildComposer(w, win) {
  var form = win.appendChild(el('form', 'mp-composer'));
  var input = form.appendChild(el('textarea', 'mp-input'));
  input.rows = 1;
  input.placeholder = w.t.placeholder;
  input.setAttribute('aria-label', w.t.inputLabel);
  if (w.config.maxMessageChars) input.maxLength = w.config.maxMessageChars;
  var count = form.appendChild(el('span', 'mp-count'));
  count.id = 'mp-count';
  count.hidden = true;
  input.setAttribute('aria-describedby', 'mp-count');
  var send = form.appendChild(iconButton('mp-send', w.t.sendLabel, 'send'));
  send.type = 'submit';
  var stop = form.appendChild(iconButton('mp-stop', w.t.stopLabel, 'stop'));
  stop.hidden = true;
  w.ui.form = form;
  w.ui.input = input;
  w.ui.count = count;
  w.ui.send = send;
  w.ui.stop = stop;
}

function updateCount(w) {
  // Shown from 80% of the server's cap on, so a long message is trimmed before it is refused.
  var max = w.config.maxMessageChars;
  var used = w.ui.input.value.length;
  var show = !!max && used >= Math.floor(max * 0.8);
  w.ui.count.hidden = !show;
  w.ui.count.textContent = show ? used + ' / ' + max : '';
  w.ui.count.classList.toggle('mp-full', show && used >= max);
}

function buildWindow(w) {
  var win = el('section', 'mp-window' + (w.inline ? ' mp-inline' : ''));
  win.setAttribute('role', w.inline ? 'region' : 'dialog');
  win.hidden = !w.inline;
  w.ui.win = win;
  buildHeader(w, win);
  var log = win.appendChild(el('div', 'mp-log'));
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  log.tabIndex = 0;
  w.ui.log = log;
  // Where the conversation stands with people: waiting, with Anna, back to the bot, offline.
  w.ui.state = win.appendChild(el('div', 'mp-state'));
  w.ui.state.setAttribute('role', 'status');
  w.ui.state.hidden = true;
  w.ui.status = win.appendChild(el('div', 'mp-status'));
  w.ui.status.setAttribute('role', 'alert');
  buildComposer(w, win);
  w.frame.appendChild(win);
}

function scrollToEnd(w) {
  if (w.stick) w.ui.log.scrollTop = w.ui.log.scrollHeight;
}

function addBubble(w, role, text, sources, author) {
  if (role === 'system') {
    var line = w.ui.log.appendChild(el('div', 'mp-system', text));
    scrollToEnd(w);
    return { row: line, body: line };
  }
  var row = el('div', 'mp-msg mp-' + role);
  if (role === 'operator') row.appendChild(el('div', 'mp-author', author || w.t.operator));
  var body = row.appendChild(el('div', 'mp-bubble'));
  if (role === 'user' || role === 'operator') body.textContent = text;
  else renderMarkdown(text, body, sources);
  w.ui.log.appendChild(row);
  scrollToEnd(w);
  return { row: row, body: body };
}

function addTyping(w) {
  var row = el('div', 'mp-msg mp-assistant');
  var dots = row.appendChild(el('div', 'mp-bubble mp-typing'));
  dots.setAttribute('role', 'status');
  dots.setAttribute('aria-label', w.t.typing);
  for (var i = 0; i < 3; i++) dots.appendChild(el('span'));
  w.ui.log.appendChild(row);
  scrollToEnd(w);
  return row;
}

function sourceList(w, sources) {
  var list = el('ol', 'mp-sources');
  list.setAttribute('aria-label', w.t.sources);
  sources.forEach(function (source) {
    var label = source.title || source.url || w.t.sources;
    if (source.page) label += ', ' + w.t.page + ' ' + source.page;
    var url = safeUrl(source.url);
    list.appendChild(el('li')).appendChild(url ? link(url, label) : el('span', null, label));
  });
  return list;
}

function markStopped(w, bubble, text) {
  if (!text) bubble.body.remove(); // stopped before the first word: only the mark remains
  bubble.row.classList.add('mp-was-stopped');
  bubble.row.appendChild(el('div', 'mp-note', w.t.stopped));
  scrollToEnd(w);
}

function feedbackBar(w, messageId, rating) {
  var bar = el('div', 'mp-feedback');
  [[1, w.t.helpful], [-1, w.t.notHelpful]].forEach(function (choice) {
    var button = bar.appendChild(iconButton(choice[0] > 0 ? 'mp-up' : 'mp-down', choice[1], 'up'));
    button.setAttribute('aria-pressed', String(rating === choice[0]));
    button.addEventListener('click', function () { sendFeedback(w, bar, messageId, choice[0]); });
  });
  return bar;
}

function sendFeedback(w, bar, messageId, rating) {
  var body = { session_id: w.sessionId, message_id: messageId, rating: rating };
  post(w, '/feedback', body).then(function (response) {
    if (!response.ok) return;
    var buttons = bar.querySelectorAll('button');
    buttons[0].setAttribute('aria-pressed', String(rating === 1));
    buttons[1].setAttribute('aria-pressed', String(rating === -1));
  }, function () {});
}

function finishAnswer(w, bubble, message) {
  var sources = message.sources || [];
  renderMarkdown(message.content, bubble.body, sources);
  if (sources.length) bubble.row.appendChild(sourceList(w, sources));
  if (message.id) bubble.row.appendChild(feedbackBar(w, message.id, message.feedback));
  scrollToEnd(w);
}

function apiUrl(w, path) {
  return w.options.apiBase + '/api/v1/widget/' + encodeURIComponent(w.options.botId) + path;
}

// Every request carries the visitor's identity token when the host page set one; the server
// answers 401 identity_invalid for a bad one rather than treat the visitor as anonymous.
function requestHeaders(w, json) {
  var headers = json ? { 'Content-Type': 'application/json' } : {};
  if (w.options.identity) headers['X-ModelPilot-Identity'] = String(w.options.identity);
  return headers;
}

function getJson(w, path) {
  return fetch(apiUrl(w, path), { headers: requestHeaders(w) });
}

function post(w, path, body, signal) {
  return fetch(apiUrl(w, path), {
    method: 'POST',
    headers: requestHeaders(w, true),
    body: JSON.stringify(body),
    signal: signal
  });
}

function adoptSession(w, id) {
  // The server's session wins: for a verified visitor it is the contact's one, on every device.
  if (!id || id === w.sessionId || !SESSION_PATTERN.test(id)) return;
  w.sessionId = id;
  writeSession(w.options.botId, id);
}

function identityFailed(w, reason) {
  w.identityFailed = true;
  hideLead(w);
  w.ui.input.disabled = true;
  w.ui.send.disabled = true;
  if (w.ui.chips) w.ui.chips.remove();
  showError(w, w.t.errorIdentity + (reason ? ' (' + String(reason).replace(/\.$/, '') + ')' : ''));
}

function showError(w, message, retry) {
  var status = w.ui.status;
  status.textContent = '';
  status.appendChild(el('span', null, message));
  if (retry) {
    var button = status.appendChild(el('button', 'mp-retry', w.t.retry));
    button.type = 'button';
    button.addEventListener('click', function () { clearError(w); retry(); });
  }
  status.classList.add('mp-shown');
}

function clearError(w) {
  w.ui.status.textContent = '';
  w.ui.status.classList.remove('mp-shown');
}

function httpErrorMessage(w, response) {
  var byStatus = { 429: w.t.errorRate, 413: w.t.errorTooLong, 402: w.t.errorQuota };
  return response.json().then(function (body) {
    var error = (body && body.error) || {};
    var server = error.message;
    if (response.status === 401 && error.code === 'identity_invalid') {
      identityFailed(w, server);
      return w.ui.status.firstChild.textContent;
    }
    return byStatus[response.status] || server || w.t.errorServer;
  }, function () { return byStatus[response.status] || w.t.errorServer; });
}

function streamAnswer(w, response, typing, turn) {
  var outcome = { failed: null };
  return readSse(response, function (event) {
    if (event.tool) return toolEvent(w, turn, typing, event.tool);
    if (event.done) {
      adoptSession(w, event.session_id);
      if (event.lead_form) turn.leadForm = true;
    }
    if (event.done && event.needs_confirmation) {
      // The answer waits for the visitor's yes or no: what was said so far stays, then the card.
      typing.remove();
      if (turn.bubble) finishAnswer(w, turn.bubble, { id: event.message_id, content: turn.raw, sources: event.sources });
      return showConfirm(w, event.needs_confirmation);
    }
    if (event.done && !turn.bubble && event.status && event.status !== 'bot') {
      // A person has (or is asked to take) the conversation: the message was saved for them,
      // and no answer comes from the model.
      typing.remove();
      turn.handedOff = true;
      if (event.status === 'offline') showOffline(w, event.offline_message);
      else setState(w, event.status, w.assignee);
      return;
    }
    if (!turn.bubble && (event.text || event.done)) {
      typing.remove();
      turn.bubble = addBubble(w, 'assistant', '');
    }
    if (event.text) {
      turn.raw += event.text;
      renderMarkdown(turn.raw, turn.bubble.body, []);
      scrollToEnd(w);
    } else if (event.done) {
      finishAnswer(w, turn.bubble, { id: event.message_id, content: turn.raw, sources: event.sources });
    } else if (event.error) {
      outcome.failed = event.error.message || w.t.errorServer;
    }
  }).then(function () { return outcome.failed; });
}

function setBusy(w, busy) {
  var ui = w.ui;
  var active = w.root.activeElement;
  w.busy = busy;
  if (busy) ui.win.setAttribute('aria-busy', 'true');
  else ui.win.removeAttribute('aria-busy');
  // One place for one action: Send while idle, Stop while an answer is coming.
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  if (busy && active === ui.send) ui.stop.focus();
  if (!busy && active === ui.stop) ui.input.focus();
}

function stopAnswer(w) {
  // Closing the stream is the whole protocol: the server saves what was said so far as partial.
  if (!w.turn) return;
  w.turn.stopped = true;
  w.turn.controller.abort();
}

function ask(w, text) {
  ensureSession(w);
  // The page the visitor is on goes along: an operator who takes over sees where they were.
  return runTurn(w, { session_id: w.sessionId, message: text, page_url: pageUrl() });
}

// One request to /chat and its streamed answer: a message, or the answer to a confirm card.
function runTurn(w, body) {
  var turn = { bubble: null, raw: '', stopped: false, controller: new AbortController(), tools: {} };
  w.turn = turn;
  setBusy(w, true);
  var typing = addTyping(w);
  var retry = function () { runTurn(w, body); };
  return post(w, '/chat', body, turn.controller.signal)
    .then(function (response) {
      if (response.status === 409) retry = null; // an expired confirmation: asking again is the way on
      if (!response.ok) return httpErrorMessage(w, response);
      return streamAnswer(w, response, typing, turn);
    })
    .then(function (failure) {
      if (failure) showError(w, failure, identityFailedRetry(w, retry));
      startEvents(w);
    }, function () {
      if (!turn.stopped) return showError(w, w.t.errorNetwork, retry);
      typing.remove();
      markStopped(w, turn.bubble || addBubble(w, 'assistant', ''), turn.raw);
    })
    .then(function () {
      typing.remove();
      for (var id in turn.tools) turn.tools[id].remove(); // a stream that ended mid-call
      w.turn = null;
      setBusy(w, false);
      if (turn.leadForm) showLead(w, 'server');
      var next = w.afterTurn;
      w.afterTurn = null;
      if (next) next();
    });
}

function identityFailedRetry(w, retry) {
  return w.identityFailed ? null : retry;
}

function send(w, text) {
  text = text.trim();
  if (!text || w.busy || w.leadBlocking || w.identityFailed) return;
  clearError(w);
  if (w.ui.chips) w.ui.chips.remove();
  closePendingConfirm(w);
  w.stick = true;
  addBubble(w, 'user', text);
  ask(w, text);
}

function renderIntro(w) {
  if (w.config.greeting) addBubble(w, 'assistant', w.config.greeting, []);
  var questions = w.config.starterQuestions || [];
  if (!questions.length) return;
  var chips = w.ui.log.appendChild(el('div', 'mp-chips'));
  questions.forEach(function (question) {
    var chip = chips.appendChild(el('button', 'mp-chip', question));
    chip.type = 'button';
    chip.tabIndex = 0;
    chip.addEventListener('click', function () { send(w, question); });
  });
  w.ui.chips = chips;
}

function loadHistory(w) {
  if (w.identityFailed) return Promise.resolve();
  // A verified visitor may have a conversation from another device: ask even without a session.
  if (w.options.identity) ensureSession(w);
  if (!w.sessionId) {
    w.ready = true;
    showLead(w, 'before_chat');
    return Promise.resolve();
  }
  return getJson(w, '/history?session_id=' + encodeURIComponent(w.sessionId)).then(function (response) {
    if (response.status === 401 && !w.options.identity) return signedOut(w, response);
    if (response.status === 401) return httpErrorMessage(w, response).then(function () { return null; });
    return response.ok ? response.json() : { messages: [] };
  }).then(function (body) {
    if (!body) return;
    adoptSession(w, body.session_id);
    w.contact = body.contact || null;
    var messages = body.messages || [];
    if (messages.length && w.ui.chips) w.ui.chips.remove();
    messages.forEach(function (message) {
      if (message.role === 'operator' || message.role === 'system') {
        addPeopleMessage(w, message);
        return;
      }
      var bubble = addBubble(w, message.role, message.content, message.sources);
      if (message.role === 'assistant') finishAnswer(w, bubble, message);
      if (message.status === 'partial') markStopped(w, bubble, message.content);
    });
    if (body.status) setState(w, body.status, body.assignee_name, true);
    // The stream goes on from the history's last event: nothing falls between the two.
    if (body.last_event_id != null && !w.lastEventId) w.lastEventId = String(body.last_event_id);
    w.ready = true;
    if (!messages.length) showLead(w, 'before_chat');
    startEvents(w);
  }, function () {
    w.ready = true;
    showError(w, w.t.errorNetwork, function () { loadHistory(w); });
  });
}

// The stored session was a signed-in visitor's and this page signs nobody in (they logged out):
// that conversation is not this visitor's to read, so a new one starts.
function signedOut(w, response) {
  return response.json().then(function (body) {
    var error = (body && body.error) || {};
    if ((error.details || {}).reason !== 'identity_required') return identityFailed(w, error.message);
    w.sessionId = null;
    writeSession(w.options.botId, null);
    w.ready = true;
    showLead(w, 'before_chat');
  }, function () { identityFailed(w); }).then(function () { return null; });
}

function startOver(w) {
  if (w.busy) return;
  stopEvents(w);
  w.seen = {};
  w.lastEventId = '';
  setState(w, 'bot', null, true);
  w.sessionId = null;
  writeSession(w.options.botId, null);
  w.ui.log.textContent = '';
  w.ui.chips = null;
  w.pendingConfirm = null;
  clearError(w);
  renderIntro(w);
  if (w.lead) blockComposer(w, w.leadBlocking);
  else showLead(w, 'before_chat');
  if (w.leadBlocking) focusLead(w);
  else w.ui.input.focus();
}

function setOpen(w, open) {
  w.isOpen = open;
  w.ui.win.hidden = !open;
  if (w.launcher) {
    var label = open ? w.t.closeLabel : w.t.openLabel;
    w.launcher.setAttribute('aria-expanded', String(open));
    w.launcher.setAttribute('aria-label', label);
    w.launcher.title = label;
  }
  if (open) {
    scrollToEnd(w);
    if (w.leadBlocking) focusLead(w);
    else w.ui.input.focus();
    startEvents(w);
  } else {
    stopEvents(w);
    if (w.launcher) w.launcher.focus();
  }
}

function autoGrow(input) {
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight, 140) + 'px';
}

function wireEvents(w) {
  var ui = w.ui;
  ui.form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = ui.input.value;
    if (!text.trim() || w.busy) return;
    ui.input.value = '';
    autoGrow(ui.input);
    updateCount(w);
    send(w, text);
  });
  ui.input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.input.addEventListener('input', function () {
    autoGrow(ui.input);
    updateCount(w);
  });
  ui.stop.addEventListener('click', function () { stopAnswer(w); });
  ui.win.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && !w.inline) setOpen(w, false);
    if (event.key === 'Tab' && !w.inline) cycleFocus(w, event);
  });
  ui.log.addEventListener('scroll', function () {
    // Follow new text only while the visitor is at the bottom; reading back stays put.
    w.stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 48;
  });
  ui.reset.addEventListener('click', function () { startOver(w); });
  if (ui.handoff) ui.handoff.addEventListener('click', function () { requestHandoff(w); });
  if (ui.close) ui.close.addEventListener('click', function () { setOpen(w, false); });
}

function focusables(w) {
  var nodes = w.ui.win.querySelectorAll('button, a[href], textarea, input, select, [tabindex="0"]');
  return Array.prototype.filter.call(nodes, function (node) {
    return !node.disabled && node.getClientRects().length > 0;
  });
}

function cycleFocus(w, event) {
  // The window opens with focus in the input, near its end: Tab wraps around to the header
  // buttons and the suggested questions instead of leaving the chat for the page behind it.
  var items = focusables(w);
  var first = items[0];
  var last = items[items.length - 1];
  var active = w.root.activeElement;
  if (!first) return;
  if (event.shiftKey ? active === first : active === last) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

/*
 * Human handoff. While the window is open, one EventSource per session brings what operators
 * write and how the conversation's state changes. After a drop the widget opens a new one with
 * ?last_event_id= (the last id it saw, or the history's), and the server replays what was missed.
 * A stream opened with no id at all (the first message of a new session) re-reads the history
 * once connected, which covers the moment before it.
 * Messages are shown once, by id, whichever way they arrive.
 */
function stateText(w, status, name) {
  if (status === 'waiting') return w.t.handoffWaiting;
  if (status === 'human') return w.t.handoffWith.replace('{name}', name || w.t.operator);
  if (status === 'closed') return w.t.handoffClosed;
  return w.t.handoffBot;
}

function setState(w, status, name, quiet) {
  var before = w.status;
  var beforeName = w.assignee;
  w.status = status;
  if (status === 'human' && name) w.assignee = name;
  if (status !== 'human') w.assignee = null;
  if (w.ui.handoff) {
    var hide = status === 'waiting' || status === 'human';
    if (hide && w.root.activeElement === w.ui.handoff) w.ui.input.focus(); // the button goes: back to typing
    w.ui.handoff.hidden = hide;
  }
  var state = w.ui.state;
  state.classList.remove('mp-offline');
  // "Back to the bot" only as news: a conversation that never left the bot shows no line.
  var unchanged = before === status && beforeName === w.assignee;
  if (status === 'bot' && (quiet || before === 'bot' || before === 'closed')) {
    state.hidden = true;
    state.textContent = '';
    return;
  }
  if (unchanged && !state.hidden) return;
  state.textContent = stateText(w, status, w.assignee);
  state.hidden = false;
}

function showOffline(w, message) {
  var state = w.ui.state;
  state.textContent = message || w.t.errorQuota;
  state.classList.add('mp-offline');
  state.hidden = false;
}

function addPeopleMessage(w, message) {
  var key = message.id ? String(message.id) : message.role + '|' + message.created_at + '|' + message.content;
  if (w.seen[key]) return;
  w.seen[key] = true;
  if (w.ui.chips) w.ui.chips.remove();
  addBubble(w, message.role, message.content, [], message.author_name);
}

function pageUrl() {
  return String(window.location.href).slice(0, 2000);
}

function ensureSession(w) {
  if (!w.sessionId) {
    w.sessionId = newSessionId();
    writeSession(w.options.botId, w.sessionId);
  }
  return w.sessionId;
}

function requestHandoff(w) {
  clearError(w);
  var retry = function () { requestHandoff(w); };
  return post(w, '/handoff', { session_id: ensureSession(w), page_url: pageUrl() }).then(function (response) {
    if (!response.ok) return httpErrorMessage(w, response).then(function (message) { showError(w, message, identityFailedRetry(w, retry)); });
    return response.json().then(function (body) {
      if (body.status === 'offline') showOffline(w, body.offline_message);
      else setState(w, body.status || 'waiting', body.assignee_name);
      if (body.lead_form) showLead(w, 'server');
      startEvents(w);
    });
  }, function () { showError(w, w.t.errorNetwork, retry); });
}

// What the stream may have missed before it knew an event id: operator and system messages
// and the state, from the history.
function catchUp(w) {
  // A state the stream delivers while this is on its way is newer than the history's.
  var seq = w.stateSeq;
  var path = '/history?session_id=' + encodeURIComponent(w.sessionId);
  return getJson(w, path).then(function (response) { return response.ok ? response.json() : null; }).then(function (body) {
    if (!body) return;
    (body.messages || []).forEach(function (message) {
      if (message.role === 'operator' || message.role === 'system') addPeopleMessage(w, message);
    });
    if (body.status && seq === w.stateSeq && (body.status !== w.status || (body.status === 'human' && body.assignee_name !== w.assignee))) {
      setState(w, body.status, body.assignee_name);
    }
  }, function () {});
}

function onStreamEvent(w, event) {
  if (event.lastEventId) w.lastEventId = event.lastEventId;
  var data;
  try {
    data = JSON.parse(event.data);
  } catch (error) {
    return;
  }
  if (data.message) addPeopleMessage(w, data.message);
  if (data.status) {
    w.stateSeq++;
    setState(w, data.status, data.assignee_name);
  }
}

function startEvents(w) {
  // Not before the history is drawn: what the stream brings belongs after it.
  if (w.events || !w.ready || !w.sessionId || w.identityFailed || !w.isOpen || typeof EventSource === 'undefined') return;
  clearTimeout(w.eventsRetry);
  w.eventsRetry = null;
  var url = apiUrl(w, '/events?session_id=' + encodeURIComponent(w.sessionId)) +
    (w.lastEventId ? '&last_event_id=' + encodeURIComponent(w.lastEventId) : '');
  var source = new EventSource(url);
  var resumed = !!w.lastEventId;
  w.events = source;
  source.onopen = function () {
    w.retryDelay = 1000;
    if (!resumed) catchUp(w);
  };
  source.onmessage = function (event) { onStreamEvent(w, event); };
  source.onerror = function () {
    // The widget reconnects by itself rather than leave it to the browser: a cross-origin
    // EventSource may not send Last-Event-ID, and a refused reconnect closes it for good. The
    // query parameter reaches the server either way.
    if (w.events !== source) return;
    source.close();
    w.events = null;
    w.eventsRetry = setTimeout(function () { w.eventsRetry = null; startEvents(w); }, w.retryDelay);
    w.retryDelay = Math.min(w.retryDelay * 2, 30000);
  };
}

function stopEvents(w) {
  clearTimeout(w.eventsRetry);
  w.eventsRetry = null;
  if (w.events) w.events.close();
  w.events = null;
}

function mergeStrings(overrides) {
  var strings = {};
  for (var key in STRINGS) strings[key] = typeof overrides[key] === 'string' ? overrides[key] : STRINGS[key];
  return strings;
}

export default function mount(ctx) {
  var style = el('style');
  style.textContent = CHAT_CSS;
  ctx.root.insertBefore(style, ctx.frame);
  var w = {
    options: ctx.options, config: ctx.config, frame: ctx.frame, launcher: ctx.launcher, root: ctx.root,
    inline: !ctx.launcher, t: mergeStrings(ctx.options.strings || {}), ui: {},
    sessionId: readSession(ctx.options.botId), busy: false, stick: true, isOpen: !ctx.launcher, turn: null,
    status: 'bot', assignee: null, seen: {}, ready: false, stateSeq: 0, events: null, eventsRetry: null, retryDelay: 1000, lastEventId: '',
    contact: null, lead: null, leadBlocking: false, leadDismissed: false, identityFailed: false, preview: !!ctx.options.preview,
    confirms: {}, confirmSeq: 0, pendingConfirm: null, afterTurn: null
  };
  buildWindow(w);
  wireEvents(w);
  renderIntro(w);
  if (ctx.config.identityError) identityFailed(w, ctx.config.identityError);
  else loadHistory(w);
  if (w.preview) listenForPreview(w);
  return {
    open: function () { setOpen(w, true); },
    close: function () { setOpen(w, false); },
    toggle: function () { setOpen(w, !w.isOpen); }
  };
}

// For the browser tests, which check these two against split streams and hostile text.
export { createSseParser, renderMarkdown };
