"""The d2l library for PyTorch: `from d2l import torch as d2l`.

Only what PyTorch does its own way lives here (tensor aliases, devices, the
model, its gradients and parameter updates); plots, timing, data download and
the training loop come from the shared modules. Importing this module seeds
every RNG with int(D2L_SEED) when that env variable is set.
"""
import gzip
import os
import shutil
import sys

# The preface's PyTorch imports (#@save), which the book's saved code uses as this module's globals.
import numpy as np  # noqa: F401
import torch
from PIL import Image  # noqa: F401
from torch import nn
from torch.nn import functional as F  # noqa: F401
from torch.utils import data  # noqa: F401
from torch.utils import data as torch_data

# Not `from . import data`: the book's preface (#@save) binds `data` to torch.utils.data in this library.
from . import training
from .common import *  # noqa: F401,F403  (the framework-neutral API, and the preface's imports)
from .common import DATA_HUB, DATA_URL, device_helpers, unavailable_module  # used here

# The rest of the preface's PyTorch imports (chapter_preface/index.md): PyPI's torchvision is built
# against CUDA torch and does not import beside torch 2.13.0+cpu (requirements/pytorch.txt).
try:
    import torchvision
    from torchvision import transforms
except (ImportError, RuntimeError) as error:   # RuntimeError: `operator torchvision::nms does not exist`
    torchvision = unavailable_module('torchvision', f'{type(error).__name__}: {error}')
    transforms = unavailable_module('torchvision.transforms', torchvision.why)
from .data import airfoil_iter, fashion_mnist_files

# The book's saved code calls this module d2l (d2l.DATA_HUB[...] = ...), as its preface's #@save cell
# `d2l = sys.modules[__name__]` does in a book that holds the preface.
d2l = sys.modules[__name__]

# The book's framework-neutral names for tensor functions.
ones_like = torch.ones_like
ones = torch.ones
zeros_like = torch.zeros_like
zeros = torch.zeros
tensor = torch.tensor
arange = torch.arange
meshgrid = torch.meshgrid
sin = torch.sin
sinh = torch.sinh
cos = torch.cos
cosh = torch.cosh
tanh = torch.tanh
linspace = torch.linspace
exp = torch.exp
log = torch.log
normal = torch.normal
rand = torch.rand
randn = torch.randn
matmul = torch.matmul
int32 = torch.int32
int64 = torch.int64
float32 = torch.float32
concat = torch.cat
stack = torch.stack
abs = torch.abs
eye = torch.eye
sigmoid = torch.sigmoid
batch_matmul = torch.bmm
numpy = lambda x, *args, **kwargs: x.detach().numpy(*args, **kwargs)
size = lambda x, *args, **kwargs: x.numel(*args, **kwargs)
reshape = lambda x, *args, **kwargs: x.reshape(*args, **kwargs)
to = lambda x, *args, **kwargs: x.to(*args, **kwargs)
reduce_sum = lambda x, *args, **kwargs: x.sum(*args, **kwargs)
reduce_mean = lambda x, *args, **kwargs: x.mean(*args, **kwargs)
argmax = lambda x, *args, **kwargs: x.argmax(*args, **kwargs)
astype = lambda x, *args, **kwargs: x.type(*args, **kwargs)
transpose = lambda x, *args, **kwargs: x.t(*args, **kwargs)
expand_dims = lambda x, *args, **kwargs: x.unsqueeze(*args, **kwargs)
swapaxes = lambda x, *args, **kwargs: x.swapaxes(*args, **kwargs)
repeat = lambda x, *args, **kwargs: x.repeat(*args, **kwargs)


def cpu():
    """The CPU device."""
    return torch.device('cpu')


def gpu(i=0):
    """The i-th GPU device."""
    return torch.device(f'cuda:{i}')


def num_gpus():
    """How many GPUs there are."""
    return torch.cuda.device_count()


try_gpu, try_all_gpus = device_helpers(cpu, gpu, num_gpus)


def seed(n):
    """Seed Python's, NumPy's and PyTorch's random number generators with n."""
    training.seed_python_and_numpy(n)
    torch.manual_seed(n)


def linreg(X, w, b):
    """The linear regression model X w + b."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Half the squared error of each example (y is reshaped like y_hat)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def evaluate_loss(net, data_iter, loss):
    """The mean of `loss` over every example of `data_iter`."""
    with torch.no_grad():
        return training.mean_loss(net, data_iter, loss, lambda y, out: y.reshape(out.shape))


def load_array(data_arrays, batch_size, is_train=True):
    """A DataLoader over tensors; for training it reshuffles every epoch with torch's global RNG (see `seed`)."""
    dataset = torch_data.TensorDataset(*data_arrays)
    return torch_data.DataLoader(dataset, batch_size, shuffle=is_train)


DATA_HUB['bert.base'] = (DATA_URL + 'bert.base.torch.zip', '225d66f04cae318b841a13d32af3acc165f253ac')
DATA_HUB['bert.small'] = (DATA_URL + 'bert.small.torch.zip', 'c72329e68a732bef0452e4b96a1c341c8910f81f')


def load_data_fashion_mnist(batch_size, resize=None):
    """The book's Fashion-MNIST loaders (train shuffled, test), images optionally resized, read by
    torchvision's own FashionMNIST from the files `d2l.download` has (D2L_DATA_DIR, else DATA_MIRROR,
    else the network), unpacked where torchvision looks for them. No worker processes: the build's
    kernels run side by side, one core each."""
    try:
        import torchvision
        from torchvision import transforms
    except (ImportError, RuntimeError) as error:   # RuntimeError: a torchvision built for another torch
        raise ModuleNotFoundError(
            f'd2l.load_data_fashion_mnist reads Fashion-MNIST through torchvision, which cannot be imported '
            f'here ({type(error).__name__}: {error}). PyPI\'s torchvision is built against CUDA torch and does '
            f'not load beside torch {torch.__version__}; install the torchvision built for this torch '
            f'(download.pytorch.org/whl/cpu) to run this page.', name='torchvision') from error
    files = fashion_mnist_files()
    root = os.path.dirname(files['train_images'])
    raw = os.path.join(root, 'FashionMNIST', 'raw')
    os.makedirs(raw, exist_ok=True)
    for path in files.values():
        unpacked = os.path.join(raw, os.path.basename(path)[:-len('.gz')])
        if not os.path.exists(unpacked):
            with gzip.open(path, 'rb') as packed, open(unpacked + '.part', 'wb') as out:
                shutil.copyfileobj(packed, out)
            os.replace(unpacked + '.part', unpacked)
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = torchvision.datasets.FashionMNIST(root=root, train=True, transform=trans, download=False)
    mnist_test = torchvision.datasets.FashionMNIST(root=root, train=False, transform=trans, download=False)
    return (torch_data.DataLoader(mnist_train, batch_size, shuffle=True),
            torch_data.DataLoader(mnist_test, batch_size, shuffle=False))


def get_data_ch11(batch_size=10, n=1500):
    """The first n airfoil examples, standardized: (shuffled data_iter, feature_dim)."""
    return airfoil_iter(load_array, torch.from_numpy, batch_size, n)


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim,
               num_epochs=2):
    """Train linear regression from scratch with `trainer_fn(params, states, hyperparams)`.

    The weights start N(0, 0.01^2) (torch's RNG), the bias at 0. After each
    minibatch's backward pass `trainer_fn` updates [w, b] in place from their
    .grad and must zero the gradients itself. Prints the final loss and the
    training seconds per epoch; returns (seconds at each evaluation, losses).
    """
    w = torch.normal(mean=0.0, std=0.01, size=(feature_dim, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)
    net, loss = lambda X: linreg(X, w, b), squared_loss

    def train_step(X, y):
        loss(net(X), y).mean().backward()
        trainer_fn([w, b], states, hyperparams)

    whole_data = training.as_one_batch(data_iter, torch.cat)
    return training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss),
                             data_iter, num_epochs)


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=2):
    """Train linear regression with a torch.optim optimizer `trainer_fn(params, **hyperparams)`.

    Prints like `train_ch11`; the loss is half the squared error, as in `train_ch11`.
    Two epochs by default, as in the other frameworks (upstream d2l's PyTorch
    version trains four): the book's text compares the tabs' curves.
    Returns nothing, as in the book: a cell ending with this call shows only
    the printed line and the figure.
    """
    feature_dim = next(iter(data_iter))[0].shape[1]
    net = nn.Sequential(nn.Linear(feature_dim, 1))
    nn.init.normal_(net[0].weight, std=0.01)
    nn.init.zeros_(net[0].bias)   # as MXNet's and Keras' dense layers start (torch draws it at random)
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    loss = nn.MSELoss(reduction='none')

    def train_step(X, y):
        optimizer.zero_grad()
        out = net(X)
        # Half the squared error, as MXNet's L2Loss and `train_ch11`: the same gradients, so the same
        # learning rate trains alike in every framework (upstream d2l trains on the whole error here).
        (loss(out, y.reshape(out.shape)) / 2).mean().backward()
        optimizer.step()

    # MSELoss has no 1/2 factor: halve it to compare with `train_ch11`.
    whole_data = training.as_one_batch(data_iter, torch.cat)
    training.fit_ch11(train_step, lambda: evaluate_loss(net, whole_data, loss) / 2,
                      data_iter, num_epochs)


training.seed_from_environment(seed)
