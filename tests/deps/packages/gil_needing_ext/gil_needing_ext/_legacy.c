/* Single-phase init without PyUnstable_Module_SetGIL, as most extensions were
   written before Python 3.13: importing it on a free-threaded interpreter
   turns the GIL back on and emits a RuntimeWarning. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
answer(PyObject *module, PyObject *unused)
{
    return PyLong_FromLong(42);
}

static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "Return 42."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gil_needing_ext._legacy",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__legacy(void)
{
    return PyModule_Create(&module_def);
}
