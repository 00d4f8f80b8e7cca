"""PyTorch side of the models: EmoNet, the scene backbone and head, ONNX export, training, fetching.

Needs the ``models`` extra (torch, transformers, onnx) and is imported only by ``moodsic models …`` and
``moodsic bench``; the running program (``core``, ``perception``, ``ui``) uses the exported ONNX files
through onnxruntime and never imports this package.
"""
