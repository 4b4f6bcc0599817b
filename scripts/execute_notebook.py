"""Execute one notebook with nbclient, then export it to HTML and reveal.js slides with nbconvert.

Driven by scripts/lectures.ts (`npm run lectures` and test/notebooks.test.ts); not meant to be run by hand.
Progress and errors go to stdout as one JSON object per line, so the caller can show progress and name the
failing cell:
  {"event": "start", "cells": <code cells>}
  {"event": "cell_start", "index": <cell index>, "code_index": <k>}                before each code cell
  {"event": "cell", "index": <cell index>, "code_index": <k>, "elapsed": <s>, "ok": <bool>}  after it
  {"event": "error", "kind": "cell" | "kernel" | "timeout", "index": ..., "source": ..., "ename": ..., "evalue": ...,
   "traceback": ...}
  {"event": "done", "seconds": <s>}
The executed notebook is written even when a cell fails (with the outputs so far), so the error can be inspected.
"""
import argparse
import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("--iopub-timeout", type=int, default=120,
                    help="seconds to wait for a cell's remaining output after its reply")
    ap.add_argument("--startup-timeout", type=int, default=300, help="seconds for the kernel to start (slow on a loaded machine)")
    ap.add_argument("--out-notebook", required=True)
    ap.add_argument("--out-html")
    ap.add_argument("--out-slides")
    ap.add_argument("--from-executed",
                    help="export this already executed copy of the notebook instead of executing it again")
    ap.add_argument("--exporter-config", default="{}",
                    help="JSON traitlets config for the exporters (genlab's templates: see scripts/jupyter-files.ts)")
    args = ap.parse_args()

    if args.from_executed:
        t0 = time.time()
        export(nbformat.read(args.from_executed, as_version=4), args)
        emit(event="done", seconds=time.time() - t0)
        return

    nb = nbformat.read(args.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    emit(event="start", cells=len(code_cells))
    t0 = time.time()
    last_error = {}
    current = {"index": None, "source": None}
    aborted = {}

    def on_cell_start(cell, cell_index):
        current.update(index=cell_index, source=cell.source)

    def on_cell_execute(cell, cell_index):
        emit(event="cell_start", index=cell_index, code_index=code_cells.index(cell_index))

    def on_cell_executed(cell, cell_index, execute_reply):
        status = (execute_reply or {}).get("content", {}).get("status", "ok")
        emit(event="cell", index=cell_index, code_index=code_cells.index(cell_index), elapsed=time.time() - t0,
             ok=status == "ok")
        if status == "error":
            # tslab aborts requests that arrive within 200 ms after an error (cells tagged raises-exception go on).
            time.sleep(0.3)
        elif status in ("abort", "aborted") and not aborted:
            # never silent: an aborted cell did not run
            aborted.update(index=cell_index, source=cell.source, ename="Aborted",
                           evalue="the kernel aborted this cell without running it", traceback="")

    def on_cell_error(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content", {})
        # tslab reports the error as text on stderr (compile errors as `line:col - message`), with an empty
        # ename/evalue in the reply: take the message from there.
        stderr = "".join(o.get("text", "") for o in cell.get("outputs", [])
                         if o.get("output_type") == "stream" and o.get("name") == "stderr")
        # drop the stack frames of tslab and Node internals: they say nothing about the notebook
        stderr = "\n".join(l for l in ANSI.sub("", stderr).strip().splitlines()
                           if not re.search(r"node_modules/tslab/|\(node:|sigintHandlersWrap", l))
        traceback = ANSI.sub("", "\n".join(content.get("traceback", []))).strip()
        ename, evalue = content.get("ename", ""), content.get("evalue", "")
        if not ename or ename.startswith("<") or not evalue:
            lines = [l for l in stderr.splitlines() if l.strip()]
            summary = next((l for l in lines if re.match(r"^(?:[A-Za-z_$][\w$]*)?(?:Error|Exception)\b", l)), None)
            summary = summary or next((l for l in lines if re.match(r"^\d+:\d+ - ", l)), None)
            summary = summary or (lines[0] if lines else "error (no message)")
            m = re.match(r"^((?:[A-Za-z_$][\w$]*)?(?:Error|Exception)):?\s*(.*)$", summary)
            ename, evalue = (m.group(1), m.group(2)) if m else ("CompileError" if re.match(r"^\d+:\d+ - ", summary) else "Error", summary)
        last_error.update(index=cell_index, source=cell.source, ename=ename, evalue=evalue,
                          traceback=stderr or traceback)

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        # After a cell's reply, nbclient waits only 4 s (its default) for the rest of the cell's output and then
        # silently moves on: on a loaded machine a burst of outputs (live progress, many figures) was cut short
        # and the saved notebook lost them. Wait as long as output keeps the kernel busy, and fail loudly if not.
        iopub_timeout=args.iopub_timeout,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=on_cell_start,
        on_cell_execute=on_cell_execute,
        on_cell_executed=on_cell_executed,
        on_cell_error=on_cell_error,
    )
    failed = False
    try:
        client.execute()
    except CellTimeoutError as e:
        failed = True
        emit(event="error", kind="timeout", index=current["index"], source=current["source"], ename="CellTimeoutError",
             evalue=(f"the cell's output was still arriving {args.iopub_timeout} s after it finished"
                     if "IOPub" in str(e) else f"a cell ran longer than {args.timeout} s"), traceback=str(e))
    except CellExecutionError as e:
        failed = True
        emit(event="error", kind="cell", index=last_error.get("index"), source=last_error.get("source"),
             ename=last_error.get("ename") or getattr(e, "ename", ""),
             evalue=last_error.get("evalue") or getattr(e, "evalue", ""),
             traceback=last_error.get("traceback") or ANSI.sub("", str(e)))
    except DeadKernelError as e:
        failed = True
        emit(event="error", kind="kernel", index=current["index"], source=current["source"], ename="DeadKernelError", evalue=str(e),
             traceback="")
    except Exception as e:  # kernel missing (NoSuchKernel), failed start, ...
        failed = True
        emit(event="error", kind="kernel", index=None, source=None, ename=type(e).__name__, evalue=str(e),
             traceback="")

    if aborted and not failed:
        failed = True
        emit(event="error", kind="cell", **aborted)

    os.makedirs(os.path.dirname(os.path.abspath(args.out_notebook)), exist_ok=True)
    nbformat.write(nb, args.out_notebook)
    if failed:
        sys.exit(1)

    export(nb, args)
    emit(event="done", seconds=time.time() - t0)


def export(nb, args):
    """HTML page and reveal.js slides, each one self-contained file: genlab's nbconvert templates (found on
    JUPYTER_PATH) inline reveal.js, MathJax and plotly.js; nbconvert embeds the images."""
    from nbconvert import HTMLExporter, SlidesExporter
    from traitlets.config import Config

    c = Config(json.loads(args.exporter_config))
    for exporter_class, out in ((HTMLExporter, args.out_html), (SlidesExporter, args.out_slides)):
        if not out:
            continue
        body, _ = exporter_class(config=c).from_notebook_node(
            nb, resources={"metadata": {"name": os.path.splitext(os.path.basename(args.notebook))[0],
                                        "path": os.path.dirname(os.path.abspath(args.notebook))}})
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(body)


if __name__ == "__main__":
    main()
