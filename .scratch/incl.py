import json,sys,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
parent={}
for n in p['nodes']:
    for c in n.get('children',[]): parent[c]=n['id']
self_t=collections.Counter()
for s,d in zip(p['samples'],p['timeDeltas']): self_t[s]+=d
incl=collections.Counter()
for nid,t in self_t.items():
    seen=set(); x=nid
    while x is not None:
        cf=nodes[x]['callFrame']; k=f"{cf['functionName'] or '(anon)'}@{cf['url'].split('/')[-1]}:{cf['lineNumber']}"
        if k not in seen: incl[k]+=t; seen.add(k)
        x=parent.get(x)
tot=sum(self_t.values())
pat=sys.argv[2:] 
for k,v in incl.most_common(400):
    if not pat or any(q in k for q in pat): print(f'{v/tot*100:5.1f}% {k}')
