/*
 * Server-sent events over fetch(): a network read may end in the middle of an event, a line
 * or even a UTF-8 character, so bytes are decoded in streaming mode and only complete events
 * (terminated by a blank line) are handed on. (Concatenated into chat.js by the build.)
 */

function createSseParser(onEvent) {
  var decoder = new TextDecoder();
  var buffer = '';

  function dispatch(block) {
    var data = [];
    block.split('\n').forEach(function (line) {
      if (line.slice(0, 5) === 'data:') data.push(line.slice(line.charAt(5) === ' ' ? 6 : 5));
    });
    if (!data.length) return;
    var event;
    try {
      event = JSON.parse(data.join('\n'));
    } catch (error) {
      return; // not one of ours (a proxy's comment or keep-alive); skip it
    }
    onEvent(event);
  }

  function drain() {
    // A lone \r at the very end may be the first half of \r\n: keep it until more arrives.
    buffer = buffer.replace(/\r\n|\r(?=[^\n])/g, '\n');
    var end = buffer.indexOf('\n\n');
    while (end !== -1) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }

  return {
    push: function (bytes) {
      buffer += decoder.decode(bytes, { stream: true });
      drain();
    },
    end: function () {
      buffer += decoder.decode();
      drain();
      if (buffer.trim()) dispatch(buffer);
      buffer = '';
    }
  };
}

function readSse(response, onEvent) {
  var parser = createSseParser(onEvent);
  var reader = response.body.getReader();
  function pump() {
    return reader.read().then(function (step) {
      if (step.done) return parser.end();
      parser.push(step.value);
      return pump();
    });
  }
  return pump();
}
