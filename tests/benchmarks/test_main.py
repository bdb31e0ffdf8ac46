"""``neuroflow bench``'s table: the optional TensorFlow column appears only when TensorFlow
is importable (timings are faked here: the harness is tested by the workloads' tests)."""
import importlib.util
import types

import pytest

from neuroflow.benchmarks import harness, main

pytest.importorskip("torch", reason="the benchmark compares against PyTorch")


def _fake_run(fail_with_tensorflow=False):
    seen = []

    def run(workload, repeats=7, **kwargs):
        seen.append(sorted(workload.build))
        if fail_with_tensorflow and "tensorflow" in workload.build:
            raise RuntimeError("no kernel for you")
        rates = {fw: 10.0 * (i + 1) for i, fw in enumerate(workload.build)}
        return harness.Result(workload.name, rates, rates["neuroflow"] / rates["pytorch"],
                              repeats, 0)
    return run, seen


def _table(capsys, monkeypatch, tf, argv, fail=False):
    run, seen = _fake_run(fail)
    monkeypatch.setattr(harness, "run", run)
    monkeypatch.setattr(harness, "pin_threads", lambda n, torch_too=True: None)
    monkeypatch.setattr(main, "_tensorflow", lambda threads: tf)
    assert main.main(argv + ["--no-memory", "--repeats", "1", "--shared-process"]) == 0
    out, err = capsys.readouterr()
    header = next(line for line in out.splitlines() if line.startswith("workload"))
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.split() and line.split()[0] in argv}
    return header, rows, seen, out, err


def test_no_tensorflow_column_without_tensorflow(capsys, monkeypatch):
    header, rows, seen, out, _ = _table(capsys, monkeypatch, None, ["tiny", "keras_mlp"])
    assert "tf steps/s" not in header and "tensorflow:" not in out
    assert seen == [["neuroflow", "pytorch"]] * 2
    assert rows["tiny"].split()[1:4] == ["10.0", "20.0", "0.50x"]


def test_tensorflow_column_when_tensorflow_imports(capsys, monkeypatch):
    fake_tf = types.SimpleNamespace(__version__="2.99")
    header, rows, seen, out, _ = _table(capsys, monkeypatch, fake_tf,
                                        ["tiny", "fit_mnist"])
    assert "tf steps/s" in header and "nf/tf" in header and "tensorflow: 2.99" in out
    assert seen == [["neuroflow", "pytorch", "tensorflow"], ["neuroflow", "pytorch"]]
    assert rows["tiny"].split()[1:6] == ["10.0", "20.0", "0.50x", "30.0", "0.33x"]
    assert rows["fit_mnist"].split()[4] == "n/a"  # no TensorFlow side for this one


def test_a_failing_tensorflow_side_drops_only_its_cells(capsys, monkeypatch):
    fake_tf = types.SimpleNamespace(__version__="2.99")
    header, rows, seen, _, err = _table(capsys, monkeypatch, fake_tf, ["mlp"], fail=True)
    assert "the TensorFlow side failed (RuntimeError: no kernel for you)" in err
    assert seen == [["neuroflow", "pytorch", "tensorflow"], ["neuroflow", "pytorch"]]
    assert rows["mlp"].split()[1:5] == ["10.0", "20.0", "0.50x", "n/a"]


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None,
                    reason="TensorFlow is installed here")
def test_tensorflow_is_detected_as_absent():
    assert main._tensorflow(2) is None


def test_each_workload_runs_in_a_fresh_process(capsys, tmp_path):
    """Several workloads: one child process each (really run, one short repeat), rows
    gathered into one table and one JSON file. (Other processes' load is accepted here: on
    a busy machine the disturbed repeats would otherwise leave no measurement at all.)"""
    out_json = tmp_path / "table.json"
    assert main.main(["tiny", "infer_b1", "--no-memory", "--repeats", "1", "--threads", "1",
                      "--max-disturbance", "1000", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in ("tiny", "infer_b1")]
    assert [r[0] for r in rows] == ["tiny", "infer_b1"]
    import json
    results = json.loads(out_json.read_text())["results"]
    assert [r["workload"] for r in results] == ["tiny", "infer_b1"]
    assert all(r["neuroflow_steps_per_s"] > 0 and r["pytorch_steps_per_s"] > 0
               for r in results)


def test_rows_of_several_processes_give_medians():
    rows = [{"workload": "a", "neuroflow_steps_per_s": n, "pytorch_steps_per_s": t,
             "ratio": n / t, "repeats": 7, "discarded": d}
            for n, t, d in [(1.0, 2.0, 1), (3.0, 1.0, 0), (2.0, 2.0, 2)]]
    row = main._median_row(rows)
    assert (row["neuroflow_steps_per_s"], row["pytorch_steps_per_s"], row["ratio"]) == \
        (2.0, 2.0, 1.0)
    assert row["discarded"] == 3 and row["processes"] == [0.5, 3.0, 1.0]
