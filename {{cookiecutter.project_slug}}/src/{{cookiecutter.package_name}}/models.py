"""Models: estimators chosen by kind (`model.algorithm` in params.yaml).

Each kind is a function that builds an unfitted scikit-learn classifier from
the model settings, registered under its name with `@estimator("name")`. A new
kind joins by adding one such function (here or in a module imported before
the run); nothing else chooses between kinds. docs/extending.md shows how.

Each function imports its estimator itself: reading params.yaml checks that
the kind exists (settings, `validate`, the template's bake) without paying
scikit-learn's import, seconds on a small machine.
"""

from collections.abc import Callable
from difflib import get_close_matches
from typing import TYPE_CHECKING

from .errors import ProjectError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from .features import Features
    from .settings import ModelSettings

Factory = Callable[["ModelSettings"], object]
ESTIMATORS: dict[str, Factory] = {}


def estimator(kind: str) -> Callable[[Factory], Factory]:
    """Register the decorated function as the builder of estimator `kind`."""

    def register(factory: Factory) -> Factory:
        ESTIMATORS[kind] = factory
        return factory

    return register


def check_kind(kind: str) -> str:
    """`kind` if an estimator is registered under it; otherwise one error with a suggestion."""
    if kind not in ESTIMATORS:
        close = get_close_matches(kind, ESTIMATORS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        known = ", ".join(sorted(ESTIMATORS))
        raise ProjectError(f"model.algorithm {kind!r} is not a known kind{hint}: one of {known}")
    return kind


@estimator("logistic_regression")
def logistic_regression(model: "ModelSettings"):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=model.C, max_iter=model.max_iter, random_state=model.random_state, **model.options
    )


@estimator("random_forest")
def random_forest(model: "ModelSettings"):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=model.n_estimators,
        max_depth=model.max_depth,
        random_state=model.random_state,
        **model.options,
    )


def build_model(features: "Features", model: "ModelSettings") -> "Pipeline":
    """Feature preparation plus the configured classifier, as one sklearn Pipeline."""
    from sklearn.pipeline import Pipeline

    from .features import preprocessor

    try:
        classifier = ESTIMATORS[check_kind(model.algorithm)](model)
    except TypeError as exc:  # an option in model.options the estimator does not take
        raise ProjectError(f"model.algorithm {model.algorithm}: {exc}") from None
    return Pipeline([("preprocess", preprocessor(features)), ("classifier", classifier)])
