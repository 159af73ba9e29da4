/*
 * Tools the bot uses while it answers (concatenated into chat.js by the build). A running call
 * shows one status line with its label ("Checking your order…") until it is done; an action that
 * needs the visitor's yes ends the stream with a confirm card: what will be done, the arguments
 * as a list, Approve and Decline. The answer is a new POST /chat {session_id, confirm}, whose
 * stream is drawn like any answer. Labels and arguments come from the server (and the model):
 * they go in as text only, never as markup.
 */

function toolEvent(w, turn, typing, tool) {
  var lines = turn.tools || (turn.tools = {});
  var id = String(tool.call_id);
  if (tool.status === 'running') {
    if (!lines[id]) lines[id] = addToolLine(w, tool);
    typing.hidden = true;
    return;
  }
  if (lines[id]) lines[id].remove();
  delete lines[id];
  if (tool.status === 'error') addToolNote(w, tool);
  if (tool.status === 'needs_confirmation') showConfirm(w, tool);
  // Nothing running any more: the model writes again, so the dots come back until it does.
  if (!Object.keys(lines).length) typing.hidden = false;
}

function toolLabel(w, tool) {
  return String(tool.label || tool.name || w.t.toolWorking);
}

function addToolLine(w, tool) {
  var line = el('div', 'mp-tool');
  line.setAttribute('role', 'status');
  line.appendChild(el('span', 'mp-tool-spin')).setAttribute('aria-hidden', 'true');
  line.appendChild(el('span', null, toolLabel(w, tool)));
  w.ui.log.appendChild(line);
  scrollToEnd(w);
  return line;
}

function addToolNote(w, tool) {
  var label = toolLabel(w, tool).replace(/(\u2026|\.\.\.)$/, '');
  w.ui.log.appendChild(el('div', 'mp-tool mp-tool-failed', w.t.toolFailed.replace('{label}', label)));
  scrollToEnd(w);
}

// "order_id" reads as "Order id".
function argumentName(key) {
  var words = String(key).replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function argumentValue(value) {
  if (value === null || value === undefined || value === '') return '\u2014';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function argumentList(args) {
  var list = el('dl', 'mp-confirm-args');
  Object.keys(args || {}).forEach(function (key) {
    list.appendChild(el('dt', null, argumentName(key)));
    list.appendChild(el('dd', null, argumentValue(args[key])));
  });
  return list;
}

function showConfirm(w, request) {
  var id = String(request.call_id);
  if (w.confirms[id]) return; // the tool event and the done event both carry it: one card
  closePendingConfirm(w);
  var card = el('div', 'mp-confirm');
  var title = card.appendChild(el('p', 'mp-confirm-title', w.t.confirmTitle));
  title.id = 'mp-confirm-' + (++w.confirmSeq);
  card.setAttribute('role', 'group');
  card.setAttribute('aria-labelledby', title.id);
  card.tabIndex = -1;
  card.appendChild(el('p', 'mp-confirm-what', toolLabel(w, request).replace(/(\u2026|\.\.\.)$/, '')));
  if (Object.keys(request.arguments || {}).length) card.appendChild(argumentList(request.arguments));
  var row = card.appendChild(el('div', 'mp-confirm-actions'));
  [[true, w.t.approve, 'mp-approve'], [false, w.t.decline, 'mp-decline']].forEach(function (choice) {
    var button = row.appendChild(el('button', choice[2], choice[1]));
    button.type = 'button';
    button.tabIndex = 0;
    button.addEventListener('click', function () { answerConfirm(w, card, id, choice[0]); });
  });
  w.confirms[id] = card;
  w.pendingConfirm = card;
  w.ui.log.appendChild(card);
  scrollToEnd(w);
  card.focus();
}

function settleConfirm(w, card, text) {
  var row = card.querySelector('.mp-confirm-actions');
  if (row) row.replaceWith(el('p', 'mp-confirm-result', text));
  if (w.pendingConfirm === card) w.pendingConfirm = null;
}

// The visitor wrote something else instead: the card stays as a record, without its buttons.
function closePendingConfirm(w) {
  if (w.pendingConfirm) settleConfirm(w, w.pendingConfirm, w.t.confirmSkipped);
}

function answerConfirm(w, card, callId, approve) {
  if (w.pendingConfirm !== card) return;
  settleConfirm(w, card, approve ? w.t.approved : w.t.declined);
  w.ui.input.focus();
  var go = function () {
    clearError(w);
    w.stick = true;
    runTurn(w, { session_id: ensureSession(w), confirm: { call_id: callId, approve: approve } });
  };
  // The card shows as the stream ends; a click before its last bytes waits for them, not lost.
  if (w.busy) w.afterTurn = go;
  else go();
}
