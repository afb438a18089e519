// Placeholder entry point: the real handler is being written (see docs/ARCHITECTURE.md).
export const handler = async (): Promise<never> => {
  throw new Error('lambdas/catch-up.ts is not wired yet');
};
