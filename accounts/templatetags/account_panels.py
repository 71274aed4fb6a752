from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, panel: dict) -> str:
    """Render a registered account-page panel with its own context on top of the page's."""
    with context.push(**panel["context"]):
        return context.template.engine.get_template(panel["template"]).render(context)
