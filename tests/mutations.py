"""The tab check's mutation suite: realistic bugs planted in one tab of a page, one at a time.

Each must make the group that shows its effect disagree; the page as it is must raise no
disagreement. Used by tests/build/test_mutations.py (a fixture book, cheap kernels) and by
`scripts/benchmark.py --only agreement` (the real optimization chapter, real kernels).

A mutation names its page, the framework whose tab it changes, the text it replaces in that
tab's code (which must occur there exactly once) and a piece of the code of the group where it
must be caught (the first group, in page order, whose code holds it).
"""
from __future__ import annotations

import dataclasses
import re

FENCE = re.compile(r"^```\{\.python \.input\}\n(.*?)^```$", re.M | re.S)
TAB_MARK = re.compile(r"^#@tab\s+(.+)$", re.M)


@dataclasses.dataclass(frozen=True)
class Mutation:
    kind: str           # "sign flip", "missing zero_grad", ...
    page: str           # the page's path in the book
    framework: str
    old: str
    new: str
    caught_at: str      # a piece of the code of the group that must disagree


def tabs_of(code: str, frameworks: list[str]) -> list[str]:
    """The frameworks a code block runs in (d2lbook's rule: no mark is the first framework's)."""
    mark = TAB_MARK.search(code.split("\n", 1)[0])
    if not mark:
        return frameworks[:1]
    names = [n.strip() for n in mark.group(1).split(",")]
    return list(frameworks) if names == ["all"] else names


def plant(text: str, mutation: Mutation, frameworks: list[str]) -> str:
    """The page with the mutation planted in its framework's tab only; an error if it does not fit."""
    found = [m for m in FENCE.finditer(text)
             if mutation.framework in tabs_of(m.group(1), frameworks) and mutation.old in m.group(1)]
    if len(found) != 1 or found[0].group(1).count(mutation.old) != 1:
        raise ValueError(f"{mutation.kind}: {mutation.old!r} is in {len(found)} {mutation.framework} code blocks "
                         f"of {mutation.page}, not once in one")
    block = found[0]
    if len(tabs_of(block.group(1), frameworks)) != 1:
        raise ValueError(f"{mutation.kind}: the block holding {mutation.old!r} is shared by several tabs")
    code = block.group(1).replace(mutation.old, mutation.new)
    return text[:block.start(1)] + code + text[block.end(1):]


def group_line(page, piece: str) -> int:
    """The line of the first code group of a page (bookbuild's reading of it) whose code holds `piece`:
    the line its agreement entry has."""
    from bookbuild.read.dialect import runs

    return next(run.line for run in runs(page) if run.kind == "code" and any(piece in block.source
                                                                              for _, block in run.blocks))


def score(results: list[tuple[Mutation, bool]], false_alarms: int, groups: int) -> str:
    caught = sum(ok for _, ok in results)
    return (f"caught {caught}/{len(results)} planted; false alarms {false_alarms}/{groups} groups" +
            "".join(f"\n  {'caught' if ok else 'MISSED'}: {m.kind} ({m.framework}, {m.page})" for m, ok in results))


# --- a fixture page in the chapter's style (numpy only: the fixture kernels import no framework) ---------

def _per_tab(code: str) -> str:
    return "".join(f"```{{.python .input}}\n#@tab {fw}\n{code.strip()}\n```\n\n"
                   for fw in ("mxnet", "pytorch", "tensorflow"))


FIXTURE_PAGE = """# Optimizasyon

```{.python .input}
#@tab all
import os
import numpy as np
from d2l import plotting
fw = os.environ["FIXTURE_FRAMEWORK"]
rng = np.random.default_rng([int(os.environ.get("D2L_SEED", "0")), ("mxnet", "pytorch", "tensorflow").index(fw)])
data = np.random.default_rng(7)
features = data.normal(0, 1, (1000, 5))
labels = features @ np.array([2.0, -3.4, 1.5, 0.7, -1.2]) + 4.2 + data.normal(0, 0.5, 1000)

class Param:
    def __init__(self, data):
        self.data, self.grad = data, np.zeros_like(data)
```

Kayıp ve ilkleme.

""" + _per_tab("""
def squared_loss(y_hat, y):
    return (y_hat - y) ** 2 / 2

def init_params():
    return [Param(rng.normal(0, 0.01, 5)), Param(np.zeros(1))]
""") + """```{.python .input}
#@tab all
def train(trainer, states, hyperparams, epochs=2, batch=10):
    w, b = init_params()
    losses = []
    for epoch in range(epochs):
        for start in range(0, 1000, batch):
            take = rng.permutation(1000)[:batch]
            error = features[take] @ w.data + b.data - labels[take]
            w.grad += features[take].T @ error / batch      # gradients add up, as autograd's do
            b.grad += np.array([error.mean()])
            trainer([w, b], states, hyperparams)
            if (start // batch) % 10 == 9:
                losses.append(float(squared_loss(features @ w.data + b.data, labels).mean()))
    print(f'loss: {losses[-1]:.3f}, {0.01 * len(fw):.3f} sec/epoch')
    plotting.plot(np.arange(1, len(losses) + 1) / 50, [losses], xlabel='epoch', ylabel='loss', yscale='log')

w, b = init_params()
print(f'initial loss: {squared_loss(features @ w.data + b.data, labels).mean():.3f}')
```

Momentum.

""" + _per_tab("""
def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        v[:] = hyperparams['momentum'] * v + p.grad
        p.data[:] -= hyperparams['lr'] * v
        p.grad[:] = 0

train(sgd_momentum, [np.zeros(5), np.zeros(1)], {'lr': 0.01, 'momentum': 0.5})
""") + """Adam.

""" + _per_tab("""
def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        v[:] = beta1 * v + (1 - beta1) * p.grad
        s[:] = beta2 * s + (1 - beta2) * np.square(p.grad)
        v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
        s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
        p.data[:] -= hyperparams['lr'] * v_bias_corr / (np.sqrt(s_bias_corr) + eps)
        p.grad[:] = 0
    hyperparams['t'] += 1

train(adam, [(np.zeros(5), np.zeros(5)), (np.zeros(1), np.zeros(1))], {'lr': 0.05, 't': 1})
""") + """Adadelta.

""" + _per_tab("""
def adadelta(params, states, hyperparams):
    rho, eps = hyperparams['rho'], 1e-5
    for p, (s, delta) in zip(params, states):
        s[:] = rho * s + (1 - rho) * np.square(p.grad)
        g = np.sqrt(delta + eps) / np.sqrt(s + eps) * p.grad
        p.data[:] -= g
        delta[:] = rho * delta + (1 - rho) * g * g
        p.grad[:] = 0

train(adadelta, [(np.zeros(5), np.zeros(5)), (np.zeros(1), np.zeros(1))], {'rho': 0.9})
""")

FIXTURE_MUTATIONS = [
    Mutation("sign flip", "ch/page.md", "tensorflow", "p.data[:] -= hyperparams['lr'] * v\n",
             "p.data[:] += hyperparams['lr'] * v\n", "def sgd_momentum"),
    Mutation("missing zero_grad", "ch/page.md", "pytorch",
             "        p.data[:] -= hyperparams['lr'] * v\n        p.grad[:] = 0\n",
             "        p.data[:] -= hyperparams['lr'] * v\n", "def sgd_momentum"),
    Mutation("changed learning rate", "ch/page.md", "tensorflow", "{'lr': 0.01, 'momentum': 0.5}",
             "{'lr': 0.02, 'momentum': 0.5}", "def sgd_momentum"),
    Mutation("dropped momentum", "ch/page.md", "mxnet", "v[:] = hyperparams['momentum'] * v + p.grad",
             "v[:] = p.grad", "def sgd_momentum"),
    Mutation("step counter never advances", "ch/page.md", "tensorflow", "    hyperparams['t'] += 1\n", "",
             "def adam"),
    Mutation("eps outside the square root", "ch/page.md", "pytorch", "np.sqrt(delta + eps)",
             "(np.sqrt(delta) + eps)", "def adadelta"),
    Mutation("another initializer", "ch/page.md", "mxnet", "Param(np.zeros(1))", "Param(np.ones(1))",
             "def squared_loss"),
    Mutation("loss without its ½", "ch/page.md", "pytorch", "return (y_hat - y) ** 2 / 2",
             "return (y_hat - y) ** 2", "def squared_loss"),
]


# --- the real chapter (../shared/book/d2l-tr/chapter_optimization): where each kind has a site -----------
# momentum.md has no step counter, no eps and no loss of its own: those kinds go where the chapter has them.

CHAPTER_MUTATIONS = [
    Mutation("sign flip", "chapter_optimization/momentum.md", "tensorflow",
             "p[:].assign(p - hyperparams['lr'] * v)", "p[:].assign(p + hyperparams['lr'] * v)",
             "train_momentum(0.02, 0.5)"),
    Mutation("missing zero_grad", "chapter_optimization/momentum.md", "pytorch", "        p.grad.data.zero_()\n", "",
             "train_momentum(0.02, 0.5)"),
    Mutation("changed learning rate", "chapter_optimization/momentum.md", "pytorch",   # the step's, doubled
             "            p[:] -= hyperparams['lr'] * v", "            p[:] -= 2 * hyperparams['lr'] * v",
             "train_momentum(0.02, 0.5)"),
    Mutation("dropped momentum", "chapter_optimization/momentum.md", "tensorflow",
             "v[:].assign(hyperparams['momentum'] * v + g)", "v[:].assign(g)", "train_momentum(0.02, 0.5)"),
    # The weights' initializer of the chapter's train_ch11 (#@save): its scale forgotten, N(0, 1) for N(0, 0.01).
    # (momentum.md's velocity drawn at random instead of zeros is no site: momentum 0.5 or 0.9 decays it by
    # 0.5^20 or 0.9^20 before the first plotted point, and the planted tab's curve moved by 0.009 at its first
    # point and by nothing after the third, a third of what another seed moves it: no check of outputs sees it.)
    Mutation("another initializer", "chapter_optimization/minibatch-sgd.md", "mxnet",
             "w = np.random.normal(scale=0.01, size=(feature_dim, 1))", "w = np.random.normal(size=(feature_dim, 1))",
             "gd_res = train_sgd(1, 1500, 10)"),
    Mutation("step counter never advances", "chapter_optimization/adam.md", "mxnet",   # in yogi
             "    hyperparams['t'] += 1\n\ndata_iter", "\ndata_iter", "def yogi("),
    Mutation("eps outside the square root", "chapter_optimization/adadelta.md", "pytorch",
             "torch.sqrt(delta + eps)", "(torch.sqrt(delta) + eps)", "train_ch11(adadelta"),
    Mutation("loss without its ½", "chapter_optimization/minibatch-sgd.md", "pytorch",
             "net, loss = lambda X: d2l.linreg(X, w, b), d2l.squared_loss",
             "net, loss = lambda X: d2l.linreg(X, w, b), lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)) ** 2",
             "gd_res = train_sgd(1, 1500, 10)"),
]


@dataclasses.dataclass(frozen=True)
class Difference:
    """A group where the book's own tabs compute different things: a disagreement there is no false alarm."""
    page: str
    code: str       # a piece of the code of the group (the first group, in page order, whose code holds it)
    reason: str


# The book's pytorch train_concise_ch11 (minibatch-sgd.md's #@save) trains 4 epochs, the others' 2: every
# concise training of the chapter draws 30 points in PyTorch, 15 elsewhere.
FOUR_EPOCHS = "PyTorch's train_concise_ch11 (minibatch-sgd.md's #@save) trains 4 epochs, the others 2"

BOOK_DIFFERENCES = [
    Difference("chapter_optimization/adam.md", "d2l.train_ch11(adam, init_adam_states",
               "TensorFlow's adam never advances hyperparams['t'] and adds eps to the step, not to its divisor"),
    Difference("chapter_optimization/adadelta.md", "trainer = torch.optim.Adadelta",
               f"{FOUR_EPOCHS}; each framework's Adadelta with its own defaults (PyTorch: lr 1.0, eps 1e-6)"),
    Difference("chapter_optimization/minibatch-sgd.md", "train_concise_ch11(trainer, {'lr': 0.01}, data_iter)",
               f"{FOUR_EPOCHS}; PyTorch's concise SGD runs with lr 0.01, Gluon's with 0.05"),
    *(Difference(f"chapter_optimization/{page}.md", f"trainer = torch.optim.{name}", FOUR_EPOCHS)
      for page, name in (("momentum", "SGD"), ("adagrad", "Adagrad"), ("rmsprop", "RMSprop"), ("adam", "Adam"))),
]
