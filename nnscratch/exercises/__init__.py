"""Exercises the learner writes: stubs of the library's own classes, checked against the library.

    nnscratch exercises start DIR          write the stub files into DIR       (stubs.py)
    nnscratch exercises check DIR [NAME]   the progress table                  (checker.py)
    nnscratch exercises train DIR          an MLP, then LeNet-5, of your layers (training.py)

``catalog.py`` lists the exercises in course order; ``check_*.py`` hold how each is checked;
``learner.py`` imports the learner's files. This package sits at the level of ``cli``: it uses
every tier, and no tier imports it.
"""
