#!/usr/bin/env python3
"""Mutation check: break one rule of check_semantics.py at a time and count
the fixture cases that then fail, to show the fixtures discriminate each rule
(SEMANTICS.md S-8). A rule caught by 0 cases is not covered by the fixtures.
Usage: python3 tests/boosters/mutate_check.py
"""
import os, sys, importlib.util, io, contextlib, math
import numpy as np
spec = importlib.util.spec_from_file_location("cs", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_semantics.py"))
cs = importlib.util.module_from_spec(spec); spec.loader.exec_module(cs)
F32=np.float32
import os, json
FX=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testthat", "fixtures", "boosters")
def run(only_prefix):
    bad=[]
    for name in sorted(os.listdir(FX)):
        if not name.startswith(only_prefix): continue
        case=cs.load_json(os.path.join(FX,name,"case.json"))
        try:
            err=(cs.check_xgb if case["library"]=="xgboost" else cs.check_lgb)(os.path.join(FX,name),case)
        except cs.Refused: continue
        if err: bad.append(name+": "+err[:90])
    return bad
orig={}
def mutate(label, prefix, setup, teardown):
    setup(); b=run(prefix); teardown()
    print(f"== {label}: {len(b)} cases caught"); [print("   ",x) for x in b[:4]]

# 1. compare in double instead of float32
L=cs.XgbTree.leaf
def leaf_double(self, x32, miss, X64=None): return L(self, x32, miss)
orig_margin=cs.XgbModel.margin
def margin_f64(self, X, spec):
    old=np.ndarray.astype
    Xc=X
    class Fake: pass
    n=X.shape[0]; out=np.zeros((n,self.n_out),dtype=F32); miss=np.isnan(X)
    if self.booster=="gblinear": return orig_margin(self,X,spec)
    t0,t1=self.tree_range(spec.get("iteration_range"))
    for r in range(n):
        x=[float(v) for v in X[r]]; acc=[F32(b) for b in self.base]
        for tr in self.trees: tr.cond=[float(c) for c in tr.cond]
        for t in range(t0,t1):
            acc[self.tree_info[t]]=F32(acc[self.tree_info[t]]+self.trees[t].leaf(x,miss[r].tolist()))
        out[r]=acc
    for tr in self.trees: tr.cond=[F32(c) for c in tr.cond]
    return out
mutate("xgb: compare double x with float threshold","xgb",lambda: setattr(cs.XgbModel,"margin",margin_f64), lambda: setattr(cs.XgbModel,"margin",orig_margin))
# 2. <= instead of <
def leaf_le(self,x32,miss):
    i=0
    while self.left[i]!=-1:
        f=self.feat[i]
        if miss[f]: i=self.left[i] if self.dleft[i] else self.right[i]; continue
        v=x32[f]; cs_=self.cats[i]
        if cs_ is None: gl = v<=self.cond[i]
        else: gl = True if (v<0 or v>=F32(16777216)) else int(v) not in cs_
        i=self.left[i] if gl else self.right[i]
    return self.cond[i]
mutate("xgb: <= instead of <","xgb",lambda: setattr(cs.XgbTree,"leaf",leaf_le), lambda: setattr(cs.XgbTree,"leaf",L))
# 3. categorical in set -> left
def leaf_catleft(self,x32,miss):
    i=0
    while self.left[i]!=-1:
        f=self.feat[i]
        if miss[f]: i=self.left[i] if self.dleft[i] else self.right[i]; continue
        v=x32[f]; cs_=self.cats[i]
        if cs_ is None: gl = v<self.cond[i]
        else: gl = True if (v<0 or v>=F32(16777216)) else int(v) in cs_
        i=self.left[i] if gl else self.right[i]
    return self.cond[i]
mutate("xgb: category in set goes left","xgb",lambda: setattr(cs.XgbTree,"leaf",leaf_catleft), lambda: setattr(cs.XgbTree,"leaf",L))
# 3b. negative category -> default child (missing)
def leaf_negmiss(self,x32,miss):
    i=0
    while self.left[i]!=-1:
        f=self.feat[i]
        v=x32[f]; cs_=self.cats[i]
        if miss[f] or (cs_ is not None and v<0): i=self.left[i] if self.dleft[i] else self.right[i]; continue
        if cs_ is None: gl = v<self.cond[i]
        else: gl = True if (v>=F32(16777216)) else int(v) not in cs_
        i=self.left[i] if gl else self.right[i]
    return self.cond[i]
mutate("xgb: negative category -> default child","xgb",lambda: setattr(cs.XgbTree,"leaf",leaf_negmiss), lambda: setattr(cs.XgbTree,"leaf",L))
# 4. dart: inplace uses the DMatrix formula
om=cs.XgbModel.margin
def margin_dart_same(self,X,spec):
    spec=dict(spec); spec["api"]="dmatrix"; return om(self,X,spec)
mutate("xgb dart: inplace == dmatrix formula","xgb",lambda: setattr(cs.XgbModel,"margin",margin_dart_same), lambda: setattr(cs.XgbModel,"margin",om))
# 5. sigmoid in double
os_=cs.xgb_sigmoid
mutate("xgb: sigmoid in double","xgb",lambda: setattr(cs,"xgb_sigmoid",lambda x: F32(1.0/(1.0+math.exp(-float(x))))), lambda: setattr(cs,"xgb_sigmoid",os_))
mutate("xgb: sigmoid 1/(1+expf(-x)) float","xgb",lambda: setattr(cs,"xgb_sigmoid",lambda x: F32(F32(1.0)/F32(F32(1.0)+cs.expf(F32(-x))))), lambda: setattr(cs,"xgb_sigmoid",os_))
# 6. expf vs double exp rounded
oe=cs.expf
mutate("xgb: exp in double then rounded","xgb",lambda: setattr(cs,"expf",lambda x: F32(math.exp(float(x)))), lambda: setattr(cs,"expf",oe))
mutate("xgb: numpy float32 exp","xgb",lambda: setattr(cs,"expf",lambda x: np.exp(F32(x))), lambda: setattr(cs,"expf",oe))
# 7. softmax with float sum
osm=cs.xgb_softmax
def sm_f(row):
    wmax=max(row); e=[cs.expf(F32(v-wmax)) for v in row]; s=F32(0)
    for v in e: s=F32(s+v)
    return [F32(v/s) for v in e]
mutate("xgb: softmax float sum","xgb",lambda: setattr(cs,"xgb_softmax",sm_f), lambda: setattr(cs,"xgb_softmax",osm))
def sm_d(row):
    wmax=max(row); e=[math.exp(float(v)-float(wmax)) for v in row]; s=sum(e)
    return [F32(v/s) for v in e]
mutate("xgb: softmax all double","xgb",lambda: setattr(cs,"xgb_softmax",sm_d), lambda: setattr(cs,"xgb_softmax",osm))
# 8. base_score not transformed
op=cs.xgb_prob_to_margin
mutate("xgb: base_score used as margin","xgb",lambda: setattr(cs,"xgb_prob_to_margin",lambda k,v: F32(v)), lambda: setattr(cs,"xgb_prob_to_margin",op))
mutate("xgb: logit in double","xgb",lambda: setattr(cs,"xgb_prob_to_margin",lambda k,v: F32(-math.log(1/float(v)-1)) if k=="logit" else op(k,v)), lambda: setattr(cs,"xgb_prob_to_margin",op))
mutate("xgb: log in double","xgb",lambda: setattr(cs,"xgb_prob_to_margin",lambda k,v: F32(math.log(float(v))) if k=="log" else op(k,v)), lambda: setattr(cs,"xgb_prob_to_margin",op))
# LightGBM
K=cs.K_ZERO_THRESHOLD
LP=cs.LgbModel.predict
mutate("lgb: no zero band drop (kZeroThreshold=0)","lgb",lambda: setattr(cs,"K_ZERO_THRESHOLD",0.0), lambda: setattr(cs,"K_ZERO_THRESHOLD",K))
mutate("lgb: kZeroThreshold=1e-35 double","lgb",lambda: setattr(cs,"K_ZERO_THRESHOLD",1e-35), lambda: setattr(cs,"K_ZERO_THRESHOLD",K))
TP=cs.LgbTree.predict
def lgb_pred_mut(mode):
    def p(self,x):
        if self.num_leaves<=1: return self.leaf_value[0]
        node=0
        while node>=0:
            dt=self.decision_type[node]; fval=x[self.split_feature[node]]
            if dt&1:
                if math.isnan(fval): node=self.right[node]; continue
                iv=int(fval) if mode!="floor" else math.floor(fval)
                if iv<0: node=self.right[node] if mode!="negleft" else self.left[node]; continue
                inb=self.in_bitset(int(self.threshold[node]),iv)
                if mode=="catright": inb=not inb
                node=self.left[node] if inb else self.right[node]; continue
            mt=(dt>>2)&3
            if math.isnan(fval) and mt!=2: fval=0.0 if mode!="nanright" else fval
            if (mt==1 and -cs.K_ZERO_THRESHOLD<=fval<=cs.K_ZERO_THRESHOLD) or (mt==2 and math.isnan(fval)):
                dl = dt&2
                if mode=="nodefault": dl=True
                node=self.left[node] if dl else self.right[node]; continue
            if mode=="nanright" and math.isnan(fval): node=self.right[node]; continue
            le = fval<=self.threshold[node] if mode!="lt" else fval<self.threshold[node]
            if mode=="f32": le = float(np.float32(fval))<=self.threshold[node]
            node=self.left[node] if le else self.right[node]
        return self.leaf_value[~node]
    return p
for m in ["lt","f32","catright","floor","negleft","nanright","nodefault"]:
    mutate("lgb tree mutation "+m,"lgb",lambda m=m: setattr(cs.LgbTree,"predict",lgb_pred_mut(m)), lambda: setattr(cs.LgbTree,"predict",TP))
