"""The tests run in a framework's environment, against that framework's d2l module."""
from pathlib import Path


def test_the_framework_module_of_build_yml_is_under_test(d2l, d2l_module_name):
    assert d2l.__name__ == d2l_module_name
    source = Path(__file__).resolve().parents[2] / 'd2l' / (d2l_module_name.split('.')[1] + '.py')
    assert Path(d2l.__file__).resolve() == source  # the checkout's code, not an installed copy
