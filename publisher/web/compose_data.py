"""What the compose page needs that is not a route, by responsibility (the names stay importable from here):

- ``compose_templates.py``: the post templates with their variables and
  descriptions, and the infographic layouts, to choose from;
- ``compose_input.py``: the channels each user may post to, the policy they
  name, the default time, and what is refused before anything renders;
- ``compose_preview.py``: the preview (text per channel, PNG per layout,
  every error with its field) and which form field an error is about;
- ``compose_models.py``: the API's request and answer models.

Nothing here writes: saving is ``posts.new_post`` (the CLI's path).
"""

from __future__ import annotations

from .compose_input import channels_by_agency, check_text, default_time, find_policy
from .compose_models import (
    TIME_HELP,
    ChannelPreview,
    ComposePreview,
    ComposeRequest,
    FieldError,
    ImagePreview,
    PostCreated,
    Refused,
)
from .compose_preview import Preview, error_field, preview
from .compose_templates import (
    PROVIDED,
    TemplateInfo,
    layouts,
    template_info,
    template_names,
    templates,
    variable_choices,
)

__all__ = ["PROVIDED", "TIME_HELP", "ChannelPreview", "ComposePreview", "ComposeRequest", "FieldError", "ImagePreview",
           "PostCreated", "Preview", "Refused", "TemplateInfo", "channels_by_agency", "check_text", "default_time",
           "error_field", "find_policy", "layouts", "preview", "template_info", "template_names", "templates",
           "variable_choices"]
