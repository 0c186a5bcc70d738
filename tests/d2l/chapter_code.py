"""Code copied from chapter_optimization/momentum.md, one version per tab, so the
tests run the library exactly as the chapter calls it."""


def f_2d(x1, x2):
    return 0.1 * x1 ** 2 + 2 * x2 ** 2


def gd_2d_with(eta):
    """The chapter's gd_2d for the step size `eta` (a global in the chapter)."""
    def gd_2d(x1, x2, s1, s2):
        return (x1 - eta * 0.2 * x1, x2 - eta * 4 * x2, 0, 0)
    return gd_2d


def momentum_2d_with(eta, beta):
    """The chapter's momentum_2d for `eta` and `beta` (globals in the chapter)."""
    def momentum_2d(x1, x2, v1, v2):
        v1 = beta * v1 + 0.2 * x1
        v2 = beta * v2 + 4 * x2
        return x1 - eta * v1, x2 - eta * v2, v1, v2
    return momentum_2d


def momentum_from_scratch(framework, d2l):
    """The chapter's (init_momentum_states, sgd_momentum) of the `framework` tab."""
    if framework == 'pytorch':
        import torch

        def init_momentum_states(feature_dim):
            v_w = d2l.zeros((feature_dim, 1))
            v_b = d2l.zeros(1)
            return (v_w, v_b)

        def sgd_momentum(params, states, hyperparams):
            for p, v in zip(params, states):
                with torch.no_grad():
                    v[:] = hyperparams['momentum'] * v + p.grad
                    p[:] -= hyperparams['lr'] * v
                p.grad.data.zero_()

    elif framework == 'tensorflow':
        import tensorflow as tf

        def init_momentum_states(features_dim):
            v_w = tf.Variable(d2l.zeros((features_dim, 1)))
            v_b = tf.Variable(d2l.zeros(1))
            return (v_w, v_b)

        def sgd_momentum(params, grads, states, hyperparams):
            for p, v, g in zip(params, states, grads):
                v[:].assign(hyperparams['momentum'] * v + g)
                p[:].assign(p - hyperparams['lr'] * v)

    elif framework == 'mxnet':
        def init_momentum_states(feature_dim):
            v_w = d2l.zeros((feature_dim, 1))
            v_b = d2l.zeros(1)
            return (v_w, v_b)

        def sgd_momentum(params, states, hyperparams):
            for p, v in zip(params, states):
                v[:] = hyperparams['momentum'] * v + p.grad
                p[:] -= hyperparams['lr'] * v

    else:
        raise ValueError(f'the chapter has no {framework!r} tab')
    return init_momentum_states, sgd_momentum


def concise_trainer(framework):
    """The chapter's train_concise_ch11 arguments of the `framework` tab: (trainer, hyperparams)."""
    if framework == 'pytorch':
        import torch
        return torch.optim.SGD, {'lr': 0.005, 'momentum': 0.9}
    if framework == 'tensorflow':
        import tensorflow as tf
        return tf.keras.optimizers.SGD, {'learning_rate': 0.005, 'momentum': 0.9}
    if framework == 'mxnet':
        return 'sgd', {'learning_rate': 0.005, 'momentum': 0.9}
    raise ValueError(f'the chapter has no {framework!r} tab')
