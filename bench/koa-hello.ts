/**
 * The HTTP ceiling `npm run bench` measures: a bare Koa hello-world on the same Node and Koa as the service, in
 * its own process. `node dist/bench/koa-hello.js` listens on a free port of 127.0.0.1 and sends it to the parent
 * (IPC) once listening.
 */
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = 'Hello World';
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  if (process.send) process.send({ port });
  else process.stdout.write(`${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
