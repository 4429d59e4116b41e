import json,sys,collections
p=json.load(open(sys.argv[1])); target=sys.argv[2]
nodes={n['id']:n for n in p['nodes']}
parent={}
for n in p['nodes']:
    for c in n.get('children',[]): parent[c]=n['id']
self_t=collections.Counter()
for s,d in zip(p['samples'],p['timeDeltas']): self_t[s]+=d
stacks=collections.Counter()
def name(n):
    cf=nodes[n]['callFrame']; u=cf['url'].split('/')[-1]
    return f"{cf['functionName'] or '(anon)'}@{u}:{cf['lineNumber']}"
for nid,t in self_t.items():
    if nodes[nid]['callFrame']['functionName']==target:
        chain=[]; x=nid
        for _ in range(8):
            x=parent.get(x)
            if x is None: break
            chain.append(name(x))
        stacks[' < '.join(chain)]+=t
for k,v in stacks.most_common(6): print(v/1000,'ms',k,'\n')
