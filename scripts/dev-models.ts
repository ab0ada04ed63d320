/**
 * Fetches the development model profile: `npx tsx scripts/dev-models.ts [--verify] [--pin]`
 * (the same as `npm run models -- dev`). Cache: env AVATAR_DEV_MODELS_DIR or
 * ~/.cache/local-talking-avatar/dev-models.
 */
import { runDevModelsCommand } from '../app/engine/models/dev-models';

runDevModelsCommand(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
