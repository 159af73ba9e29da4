/*
 * A safe markdown subset for model text, built with DOM APIs only: model text is never
 * parsed as HTML. Paragraphs, **bold**, *italics* (not _x_: snake_case and URLs are full of
 * underscores), `code`, fenced code, lists, [links](url)
 * with http(s) URLs only, bare http(s) URLs, and [n] citations pointing at the answer's sources.
 * (Concatenated into chat.js by the build; shares its module scope.)
 */

var INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*)|(\[[^\]\n]+\]\([^)\s]+\))|(\[\d{1,2}\])|(https?:\/\/[^\s<>()"'[\]{}]+[^\s<>().,;:!?"'[\]{}])/;

function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function safeUrl(url) {
  // Only absolute http(s) URLs become links; javascript:, data: and relative URLs stay text.
  return /^https?:\/\/[^\s]+$/i.test(url || '') ? url : '';
}

function link(url, text) {
  var a = el('a', null, text);
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

function citation(number, sources, parent) {
  var source = sources[number - 1];
  if (!source) {
    parent.appendChild(document.createTextNode('[' + number + ']'));
    return;
  }
  var url = safeUrl(source.url);
  var mark = url ? link(url, String(number)) : el('span', null, String(number));
  mark.className = 'mp-cite';
  mark.title = source.title || '';
  parent.appendChild(mark);
}

function renderMatch(match, parent, sources) {
  var token = match[0];
  if (match[1]) parent.appendChild(el('code', null, token.slice(1, -1)));
  else if (match[2]) renderInline(token.slice(2, -2), parent.appendChild(el('strong')), sources);
  else if (match[3]) renderInline(token.slice(1, -1), parent.appendChild(el('em')), sources);
  else if (match[4]) {
    var split = token.lastIndexOf('](');
    var label = token.slice(1, split);
    var url = safeUrl(token.slice(split + 2, -1));
    if (url) renderInline(label, parent.appendChild(link(url, '')), sources);
    else parent.appendChild(document.createTextNode(token));
  } else if (match[5]) citation(parseInt(token.slice(1, -1), 10), sources, parent);
  else parent.appendChild(link(token, token));
}

function renderInline(text, parent, sources) {
  var rest = text;
  var match = INLINE.exec(rest);
  while (match) {
    if (match.index) parent.appendChild(document.createTextNode(rest.slice(0, match.index)));
    renderMatch(match, parent, sources);
    rest = rest.slice(match.index + match[0].length);
    match = INLINE.exec(rest);
  }
  if (rest) parent.appendChild(document.createTextNode(rest));
}

function listItem(line) {
  var bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1] };
  var numbered = /^\s*\d{1,3}[.)]\s+(.*)$/.exec(line);
  return numbered ? { ordered: true, text: numbered[1] } : null;
}

function renderParagraph(lines, parent, sources) {
  var p = parent.appendChild(el('p'));
  lines.forEach(function (line, index) {
    if (index) p.appendChild(el('br'));
    renderInline(line, p, sources);
  });
}

function renderBlocks(lines, parent, sources) {
  var i = 0;
  while (i < lines.length) {
    var line = lines[i];
    if (/^\s*```/.test(line)) {
      var code = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
      parent.appendChild(el('pre')).appendChild(el('code', null, code.join('\n')));
      i++;
    } else if (listItem(line)) {
      var first = listItem(line);
      var list = parent.appendChild(el(first.ordered ? 'ol' : 'ul'));
      for (var item = first; i < lines.length && item && item.ordered === first.ordered; item = listItem(lines[++i] || '')) {
        renderInline(item.text, list.appendChild(el('li')), sources);
      }
    } else if (!line.trim()) {
      i++;
    } else {
      var para = [];
      for (; i < lines.length && lines[i].trim() && !listItem(lines[i]) && !/^\s*```/.test(lines[i]); i++) para.push(lines[i]);
      renderParagraph(para, parent, sources);
    }
  }
}

function renderMarkdown(text, parent, sources) {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  renderBlocks(String(text || '').replace(/\r\n?/g, '\n').split('\n'), parent, sources || []);
}
