#!/usr/bin/env python3
"""
Write what gguf-py itself (llama.cpp's gguf-py, path in GGUF_PY) emits for a checkpoint's model card / naming
metadata (Metadata.load + set_gguf_meta_model, as convert_hf_to_gguf.py calls them) and its special vocabulary
(SpecialVocab.add_to_gguf) into a metadata-only GGUF, for gguf-py.test.ts to compare with ours.

  GGUF_PY=<llama.cpp>/gguf-py python3 gguf_py_reference.py CHECKPOINT_DIR TOTAL_PARAMS bpe|spm N_VOCAB OUT.gguf
"""
import os
import sys
import types

try:
    import sentencepiece  # noqa: F401
except ImportError:  # gguf.vocab imports it at import time; not used here
    stub = types.ModuleType("sentencepiece")
    stub.SentencePieceProcessor = object
    sys.modules["sentencepiece"] = stub

sys.path.insert(0, os.environ["GGUF_PY"])
import gguf  # noqa: E402
from pathlib import Path  # noqa: E402

directory, total, kind, n_vocab, out = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
writer = gguf.GGUFWriter(out, "llama")
writer.add_type(gguf.GGUFType.MODEL)
metadata = gguf.Metadata.load(None, directory, None, total)
if metadata.name is None:
    metadata.name = directory.name
if metadata.size_label is None and total > 0:
    metadata.size_label = gguf.size_label(total, total, 0, 0)
metadata.set_gguf_meta_model(writer)
special = gguf.SpecialVocab(directory, load_merges=(kind == "bpe"), n_vocab=(None if kind == "bpe" else n_vocab))
special.add_to_gguf(writer)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.close()
