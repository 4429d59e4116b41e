import json,sys,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
self_t=collections.Counter()
dt=p['timeDeltas']; samples=p['samples']
for s,d in zip(samples,dt): self_t[s]+=d
byfn=collections.Counter(); byfile=collections.Counter()
for nid,t in self_t.items():
    cf=nodes[nid]['callFrame']; url=cf['url'].split('/node_modules/')[-1] if '/node_modules/' in cf['url'] else cf['url'].replace('file:///work/main/','')
    byfn[(cf['functionName'] or '(anon)')+' '+url+':'+str(cf['lineNumber'])]+=t
    key=url.split('/')[0] if '/node_modules/' in cf['url'] else url
    byfile[key or cf['functionName']]+=t
tot=sum(self_t.values())
print('total ms',tot/1000)
for k,v in byfile.most_common(25): print(f'{v/tot*100:5.1f}% {k}')
print('---')
for k,v in byfn.most_common(30): print(f'{v/tot*100:5.1f}% {k}')
