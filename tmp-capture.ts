import {Watch} from './source/client/watch.js';
import {parseTarget} from './source/client/target.js';
import {localAccess} from './source/client/channel.js';
const w = new Watch({target: parseTarget(process.argv[2]), access: localAccess});
await w.start(() => {});
const s = await w.capture({forceGc: false, confirmCost: false});
console.log(JSON.stringify({...s, tree: s.tree.slice(0, 15), groups: s.groups.slice(0,5)}, null, 1));
w.close();
process.exit(0);
