import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '/work/main/src/models/zoo.js';
import { channelGraph } from '/work/main/src/prune/graph/graph.js';
const m = buildModel('vgg16', { width: 0.25 });
const g = channelGraph(m);
for (const u of g.units) console.log(u.conv, u.filters, u.members.map(x=>x.layer), u.consumers, u.followers.join(','), u.tap, u.consumer, u.consumerKind, u.spatial, u.poolFactor);
console.log(g.intact);
console.log(m.layers.map(l=>l.name+':'+l.getClassName()).join(' '));
