# Writes the reference MAT files of this directory with an independent
# writer, SciPy's scipy.io.savemat (Debian python3-scipy 1.10.1):
#   python3 gen_scipy.py
# matfile_test.go checks the values below; keep the two in step.
import numpy as np
from scipy.io import savemat

X = np.arange(2 * 3 * 2, dtype=np.uint8).reshape((2, 3, 2), order="F") * 10
y = np.array([[10.0], [1.0], [7.5]])
vars = {
    "X": X,                                             # uint8, stored miUINT8
    "y": y,                                             # double 3×1
    "neg": np.array([[-3, 4]], dtype=np.int16),         # int16 1×2
    "z": np.array([[1 + 2j, -0.5 - 1j]]),               # complex double
    "mask": np.array([[True, False, True]]),            # logical
    "s": "hi",                                          # char
    "st": {"a": np.array([[1.0]])},                     # struct, skipped
    "c": np.array([[np.array([[1.0]]), "x"]], dtype=object),  # cell, skipped
    "e": np.zeros((0, 0)),                              # empty double
}
savemat("scipy_plain.mat", vars, format="5", do_compression=False, oned_as="column")
savemat("scipy_compressed.mat", vars, format="5", do_compression=True, oned_as="column")
