#!/usr/bin/env python3
"""Prints which src/domain module imports which, at a git revision: python3 .ci/module_graph.py REV"""
import re, subprocess, sys
rev=sys.argv[1]
files=subprocess.run(['git','ls-tree','-r','--name-only',rev,'src/domain'],capture_output=True,text=True).stdout.split()
mods={}
for f in files:
    if not f.endswith('.rs'): continue
    name=f[len('src/domain/'):-3].replace('/mod','')
    mods[name]=subprocess.run(['git','show',f'{rev}:{f}'],capture_output=True,text=True).stdout
names=set(mods)
short={n.split('/')[-1]:n for n in names}
aliases={'slots':'schedule/visits' if 'schedule/visits' in names else 'slots','event_domain':None}
out={}
for n,src in mods.items():
    deps=set()
    for m in re.finditer(r'crate::domain::((?:[a-z_]+::)*)(\{[^}]*\}|[a-z_]+)', src):
        prefix, txt = m.group(1), m.group(2)
        parts=[]
        if txt.startswith('{'):
            for p in txt.strip('{}').split(','):
                p=p.strip().split(' as ')[0]
                parts.append(prefix+p)
        else:
            parts.append(prefix+txt)
        for p in parts:
            segs=[x for x in p.split('::') if x]
            if not segs: continue
            if segs[0]=='schedule' and len(segs)>1 and ('schedule/'+segs[1]) in names:
                d='schedule/'+segs[1]
            elif segs[0] in names:
                d=segs[0]
            elif segs[0]=='slots' and 'schedule/visits' in names:
                d='schedule/visits'
            elif segs[0] in ('bookings','events') and 'schedule/'+segs[0] in names:
                d='schedule/'+segs[0]
            else:
                continue
            if d!=n: deps.add(d)
    out[n]=sorted(deps)
core=['bookings','events','slots','schedule/bookings','schedule/events','schedule/visits','schedule/occupancy','schedule/requests','schedule/consequences','schedule/letters','schedule/notices','schedule/offers','schedule/event_input','schedule','mail']
for n in sorted(out):
    if n in core or n.startswith('schedule'):
        print(f"{n} -> {', '.join(out[n]) or '(none)'}")
