'use strict';
// Echo server built on the npm package `ws`, started by wsclient's
// internal/peertest. One process serves every behaviour, chosen per
// connection by the request path:
//
//   /  (any other path)          echo: text as text, binary as binary
//   /close?code=N&reason=R&after=K
//                                echo K messages (default 0), then close
//                                with code N and reason R (no code: an
//                                empty close frame)
//   /ping?payload=P              send a ping with payload P (default
//                                "hello"); when the pong arrives send the
//                                text message "pong:" + its payload; echo
//   /headers                     send the request headers as a JSON object
//                                (lower-case names), then echo
//   /request                     send {method, url, httpVersion, headers,
//                                rawHeaders, protocol, extensions} as JSON,
//                                then echo
//   /tcp?port=P                  relay to a TCP connection to 127.0.0.1:P
//                                (as websockify does): each message's bytes
//                                go to the socket, what the socket sends
//                                comes back as binary messages; either end
//                                closing closes the other (close 1000)
//
// Configuration: one JSON argument, for example
//   {"perMessageDeflate": {"threshold": 0, "serverMaxWindowBits": 10},
//    "protocols": ["chat"], "maxPayload": 1048576}
//
// Output on stdout: "LISTENING <port>" once, then one JSON object per line
// for each event (connect, message, ping, pong, close, error).

const { WebSocketServer } = require('ws');

const config = JSON.parse(process.argv[2] || '{}');

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const options = { host: '127.0.0.1', port: 0 };

const d = config.perMessageDeflate;
if (d) {
  const pmd = { threshold: typeof d.threshold === 'number' ? d.threshold : 0 };
  // Only set the takeover keys when true: ws treats an explicit false as
  // "refuse offers that ask for it", which is not what "off" means here.
  if (d.serverNoContextTakeover) pmd.serverNoContextTakeover = true;
  if (d.clientNoContextTakeover) pmd.clientNoContextTakeover = true;
  if (d.serverMaxWindowBits) pmd.serverMaxWindowBits = d.serverMaxWindowBits;
  if (d.clientMaxWindowBits) pmd.clientMaxWindowBits = d.clientMaxWindowBits;
  options.perMessageDeflate = pmd;
} else {
  options.perMessageDeflate = false;
}

if (config.maxPayload) options.maxPayload = config.maxPayload;

const accept = Array.isArray(config.protocols) ? config.protocols : [];
// The first protocol the client offered that the server accepts; none
// otherwise (ws would pick the client's first offer by default).
options.handleProtocols = (offered) => {
  for (const p of offered) {
    if (accept.includes(p)) return p;
  }
  return false;
};

const wss = new WebSocketServer(options);

wss.on('listening', () => {
  process.stdout.write('LISTENING ' + wss.address().port + '\n');
});

wss.on('error', (err) => {
  process.stderr.write('server error: ' + err.stack + '\n');
  process.exit(1);
});

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname;
  const q = url.searchParams;
  emit({
    event: 'connect',
    url: req.url,
    protocol: ws.protocol,
    extensions: ws.extensions,
  });

  if (path === '/tcp') {
    relayTCP(ws, parseInt(q.get('port'), 10), req.url);
    return;
  }

  let closeAfter = -1;
  if (path === '/close') {
    closeAfter = q.has('after') ? parseInt(q.get('after'), 10) || 0 : 0;
  }

  const doClose = () => {
    try {
      if (q.has('code')) {
        ws.close(parseInt(q.get('code'), 10), q.get('reason') || '');
      } else {
        ws.close();
      }
    } catch (err) {
      emit({ event: 'error', url: req.url, error: String(err) });
      ws.terminate();
    }
  };

  let echoed = 0;
  ws.on('message', (data, isBinary) => {
    emit({ event: 'message', url: req.url, binary: isBinary, size: data.length });
    ws.send(data, { binary: isBinary });
    echoed++;
    if (closeAfter >= 0 && echoed >= closeAfter) doClose();
  });
  ws.on('ping', (data) => {
    emit({ event: 'ping', url: req.url, data: data.toString('latin1') });
  });
  ws.on('pong', (data) => {
    emit({ event: 'pong', url: req.url, data: data.toString('latin1') });
    if (path === '/ping') ws.send('pong:' + data.toString());
  });
  ws.on('close', (code, reason) => {
    emit({ event: 'close', url: req.url, code: code, reason: reason.toString() });
  });
  ws.on('error', (err) => {
    emit({ event: 'error', url: req.url, error: String(err) });
  });

  switch (path) {
    case '/close':
      if (closeAfter === 0) doClose();
      break;
    case '/ping':
      ws.ping(q.has('payload') ? q.get('payload') : 'hello');
      break;
    case '/headers':
      ws.send(JSON.stringify(req.headers));
      break;
    case '/request':
      ws.send(
        JSON.stringify({
          method: req.method,
          url: req.url,
          httpVersion: req.httpVersion,
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          protocol: ws.protocol,
          extensions: ws.extensions,
        })
      );
      break;
  }
});

// relayTCP joins ws to a TCP connection to 127.0.0.1:port, with
// backpressure both ways (each side pauses while the other's buffer is full).
function relayTCP(ws, port, url) {
  const sock = require('net').connect(port, '127.0.0.1');
  const stream = require('ws').createWebSocketStream(ws);
  stream.on('error', (err) => emit({ event: 'error', url: url, error: String(err) }));
  sock.on('error', (err) => {
    emit({ event: 'error', url: url, error: String(err) });
    ws.close(1011);
  });
  stream.pipe(sock);
  sock.pipe(stream);
  ws.on('close', (code, reason) => {
    emit({ event: 'close', url: url, code: code, reason: reason.toString() });
    sock.end();
  });
}

process.on('SIGTERM', () => process.exit(0));
