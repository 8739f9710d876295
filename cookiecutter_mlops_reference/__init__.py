"""The template's own command: bakes cookiecutter-mlops-reference, checking each answer as it is given.

`answers` and `next_steps` use the standard library only: the template's hooks
import them from the template checkout, with whatever Python runs cookiecutter.
"""

# Where the template is published: the default when this command runs outside a
# clone of it. The same address as `_template_repo` in cookiecutter.json (a test
# keeps them equal), which the README's cookiecutter and cruft examples use.
PUBLISHED = "https://github.com/ORG/cookiecutter-mlops-reference"
