"""Graph pictures: the DOT text shows what it should; rendering fails clearly without Graphviz."""

import re
import sys

import graphviz
import numpy as np
import pytest

from autograd import Tensor, linear, softmax_cross_entropy
from autograd.ledger import record
from autograd.viz import draw, render, to_dot


def dense_layer():
    """X @ W + b with b broadcasting over the batch of 4, then a loss; returns the locals."""
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((4, 2)))
    W = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    h = (X @ W + b).tanh()
    loss = (h * h).sum() * 0.5
    return locals()


def node_ids(dot, label_text):
    """The DOT ids of the nodes whose label contains `label_text`."""
    return re.findall(rf"^\t+(\w+) \[label=[^\n]*{re.escape(label_text)}", dot, re.M)


def test_dense_layer_dot_has_names_shapes_ops_and_the_broadcast_edge():
    v = dense_layer()
    dot = to_dot(v["loss"], names=v)
    for text in ["<B>X</B>", "<B>W</B>", "<B>b</B>", "<B>h</B>", "<B>loss</B>",
                 "(4, 2) float64", "(2, 3) float64", "(3,) float64", '"matmul"', '"add"',
                 '"tanh"', 'label="sum over axis 0: (4, 3) → (3,)"']:
        assert text in dot, text
    (b,) = node_ids(dot, "<B>b</B>")
    (add,) = node_ids(dot, '"add"')
    assert re.search(rf"\t{b} -> {add} \[label=\"sum over axis 0", dot)
    assert dot.count("sum over") == 1  # X @ W has the output's shape: nothing summed


@pytest.mark.parametrize("name, style", [
    ("X", "fillcolor=\"#f0f0f0\""),  # a constant: grey
    ("W", "fillcolor=\"#d7e7f8\""),  # a parameter: filled blue
    ("loss", "peripheries=2"),       # the output: double border
])
def test_leaves_parameters_and_output_are_styled_apart(name, style):
    v = dense_layer()
    line = next(s for s in to_dot(v["loss"], names=v).splitlines() if f"<B>{name}</B>" in s)
    assert style in line


def test_fan_out_x_times_x_draws_two_edges_into_one_mul():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    dot = to_dot(y, names={"x": x})
    (node,) = node_ids(dot, "<B>x</B>")
    (mul,) = node_ids(dot, '"mul"')
    assert dot.count(f"\t{node} -> {mul}\n") == 2


def test_names_skip_underscores_and_tensor_name_is_used():
    x = Tensor([1.0, 2.0], requires_grad=True, name="input")
    hidden = x.exp()
    y = hidden.sum()
    dot = to_dot(y, names={"_": hidden, "_hidden": hidden})
    assert "<B>input</B>" in dot and "_hidden" not in dot and "<B>_</B>" not in dot
    assert "<B>hidden</B>" in to_dot(y, names={"hidden": hidden})


def test_constants_become_small_grey_nodes_and_params_show_on_the_op():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    dot = to_dot((x * 2.0).sum(axis=1), names={"x": x})
    assert re.search(r'\[label="2\.0?" [^\n]*fillcolor="#f0f0f0"', dot)
    assert 'label="sum\\naxis=1"' in dot


@pytest.mark.parametrize("option, present, absent", [
    ({"rankdir": "TB"}, "rankdir=TB", "rankdir=LR"),
    ({"show_values": False}, "(2,) float64", "[1., 2.]"),
    ({}, "[1., 2.]", "rankdir=TB"),
])
def test_options(option, present, absent):
    x = Tensor([1.0, 2.0], requires_grad=True)
    dot = to_dot(x.exp(), **option)
    assert present in dot and absent not in dot


def test_gradients_show_after_backward_and_interior_ones_from_a_ledger():
    v = dense_layer()
    v["loss"].backward(retain_graph=True)
    dot = to_dot(v["loss"], names=v)
    assert '">grad [-' in dot  # b's .grad in full
    assert dot.count('">grad ') == 2  # only the leaves keep .grad
    v = dense_layer()
    ledger = record(v["loss"], names=v)
    assert to_dot(v["loss"], names=v, gradients=ledger).count('">grad ') == 8  # every tensor node


def test_collapse_modules_boxes_each_layer():
    v = dense_layer()

    class Dense:
        pass

    class Model:
        layer1 = Dense()

        def named_parameters(self):
            return [("layer1.weight", v["W"]), ("layer1.bias", v["b"])]

    dot = to_dot(v["loss"], collapse_modules=Model())
    cluster = re.search(r"subgraph cluster_0 \{\n\t\tlabel=\"layer1: Dense\"(.*?)\n\t\}", dot,
                        re.S)
    assert cluster, dot
    assert "layer1.weight" in cluster[1] and "layer1.bias" in cluster[1]
    assert '"matmul"' in cluster[1] and '"add"' in cluster[1] and '"tanh"' not in cluster[1]


@pytest.mark.graphviz_dot  # renders with the dot binary
def test_draw_is_a_digraph_with_the_same_source_and_renders_names_to_svg(tmp_path):
    v = dense_layer()
    graph = draw(v["loss"], names=v)
    assert isinstance(graph, graphviz.Digraph) and hasattr(graph, "_repr_mimebundle_")
    assert graph.source == to_dot(v["loss"], names=v)
    path = render(v["loss"], tmp_path / "graph.svg", names=v)
    svg = open(path, encoding="utf-8").read()
    assert svg.lstrip().startswith("<?xml") and ">W</text>" in svg and ">loss</text>" in svg
    assert "sum over axis 0" in svg
    assert render(v["loss"], tmp_path / "graph.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png", "graph.svg"]  # no temps


@pytest.mark.parametrize("how", ["render", "display", "Digraph.render"])
def test_rendering_without_the_dot_binary_says_how_to_install_it(how, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    y = Tensor([1.0], requires_grad=True).exp()
    with pytest.raises(RuntimeError, match="apt-get install graphviz / brew install graphviz"):
        if how == "render":
            render(y, tmp_path / "graph.svg")
        elif how == "display":  # what Jupyter calls
            draw(y)._repr_mimebundle_()
        else:
            draw(y).render(tmp_path / "graph", format="svg")
    assert not (tmp_path / "graph.svg").exists()


def test_to_dot_works_without_the_graphviz_package_and_draw_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    y = Tensor([1.0], requires_grad=True).exp()
    assert to_dot(y).startswith("digraph jacograd {")
    with pytest.raises(ImportError, match=r"pip install jacograd\[viz\]"):
        draw(y)


def test_after_a_plain_backward_the_graph_still_draws_with_leaf_gradients():
    v = dense_layer()
    v["h"].retain_grad()
    v["loss"].backward()
    dot = to_dot(v["loss"], names=v)
    for text in ['"matmul"', '"add"', '"tanh"', "<B>W</B>", "<B>b</B>", "<B>h</B>",
                 "(4, 3) float64", "grad not kept"]:
        assert text in dot, text
    (w,) = node_ids(dot, "<B>W</B>")
    w_label = re.search(rf"\t{w} \[label=(.*)$", dot, re.M).group(1)
    assert "grad" in w_label and "not kept" not in w_label  # a leaf shows its gradient
    (h,) = node_ids(dot, "<B>h</B>")
    h_label = re.search(rf"\t{h} \[label=(.*)$", dot, re.M).group(1)
    assert "grad" in h_label and "not kept" not in h_label  # retain_grad() kept this one


def test_a_second_backward_through_a_freed_graph_is_still_an_error():
    y = Tensor([1.0], requires_grad=True).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_a_freed_graph_holds_no_activations_and_little_per_node():
    import gc
    import tracemalloc
    x = Tensor(np.ones(250_000), requires_grad=True)  # 2 MB; every activation is as large
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(20):
        y = (y * 0.5).tanh()
    loss = y.sum()
    del y  # held by the user at backward time, y would keep its data (as any object would)
    loss.backward()
    x.grad = None
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    nodes = 41
    assert held / nodes < 600, f"{held} bytes held by a freed graph of {nodes} nodes"
    dot = to_dot(loss)
    assert dot.count('"tanh"') == 20 and dot.count("value freed by backward()") == 40


def test_a_large_interior_tensor_the_user_holds_keeps_its_value():
    x = Tensor(np.ones(100), requires_grad=True)
    kept = x * 3
    loss = (kept * 2).sum()
    loss.backward()
    assert kept.data is not None and kept.data.sum() == 300
    dot = to_dot(loss, names={"kept": kept})
    assert "<B>kept</B>" in dot and "mean 3" in dot and dot.count("value freed") == 1


@pytest.mark.parametrize("length, rankdir", [(3, "LR"), (4, "TB")])
def test_long_chains_are_drawn_top_to_bottom(length, rankdir):
    y = Tensor([0.5], requires_grad=True)
    for _ in range(length):
        y = y.tanh()
    assert f"rankdir={rankdir}" in to_dot(y)


def test_tensors_up_to_16_elements_show_their_values():
    x = Tensor(np.arange(16.0).reshape(4, 4), requires_grad=True)
    dot = to_dot((x * 2).sum())
    assert "15." in dot and "mean" not in dot.split("(4, 4) float64")[1].split("]")[0]


@pytest.mark.graphviz_dot  # renders with the dot binary
def test_an_mlp_on_a_batch_of_64_draws():
    rng = np.random.default_rng(0)
    sizes = [784, 64, 32, 10]
    params = {}
    h = Tensor(rng.standard_normal((64, 784)))
    for k, (n, m) in enumerate(zip(sizes, sizes[1:])):
        params[f"W{k}"] = Tensor(rng.standard_normal((n, m)) / n ** 0.5, requires_grad=True)
        params[f"b{k}"] = Tensor(np.zeros(m), requires_grad=True)
        if k == 0:  # the fused node, then x @ W + b
            h = linear(h, params[f"W{k}"], params[f"b{k}"]).relu()
        else:
            h = h @ params[f"W{k}"] + params[f"b{k}"]
            h = h.relu() if k < 2 else h
    loss = softmax_cross_entropy(h, rng.integers(0, 10, 64))
    loss.backward(retain_graph=True)
    graph = draw(loss, names=params)
    for text in ["<B>W2</B>", '"linear"', '"softmax_cross_entropy"', "(64,) int64",
                 "sum over axis 0: (64, 64) → (64,)", "sum over axis 0: (64, 10) → (10,)"]:
        assert text in graph.source, text
    assert graph.pipe(format="svg")


def test_a_10000_node_graph_says_how_to_make_it_smaller():
    y = Tensor([1.0], requires_grad=True)
    for _ in range(5000):
        y = y.tanh()  # an op node and a tensor node each
    with pytest.raises(ValueError, match=r"max_nodes=500.*max_nodes=None.*collapse_modules=model"):
        to_dot(y)
    assert to_dot(y, max_nodes=None).count(" -> ") == 10000
