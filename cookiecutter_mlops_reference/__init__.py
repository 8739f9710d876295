"""The template's own command: bakes cookiecutter-mlops-reference, checking each answer as it is given.

`answers` and `next_steps` use the standard library only: the template's hooks
import them from the template checkout, with whatever Python runs cookiecutter.
"""
