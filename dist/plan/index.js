process.env.UV_THREADPOOL_SIZE ??= '16';
const { runAction } = await import('../action/index.js');

await runAction('plan');
