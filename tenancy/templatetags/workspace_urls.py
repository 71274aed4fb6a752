from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def wurl(context, name: str, *args) -> str:
    """`{% wurl 'accounts:detail' account.pk %}`: reverse a page URL inside the current workspace."""
    return reverse(name, args=[context["workspace"].slug, *args])
