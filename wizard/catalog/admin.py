from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html

from . import snippets
from .instructions import VARIABLES, render, sample_values, validate
from .models import InstructionTemplate, Platform, Snippet
from .templates import next_version, publish


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "signature",
        "uses_session_login",
        "sends_credentials_unencoded",
        "missing_languages",
        "texts_missing_in",
    ]
    list_filter = ["signature", "category"]
    search_fields = ["name", "slug", "aliases", "category"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        # The published templates' languages come with the page's platforms, in one query more.
        published = InstructionTemplate.objects.filter(status=InstructionTemplate.PUBLISHED).only(
            "platform_id", "language"
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("instruction_templates", queryset=published, to_attr="published"))
        )

    @admin.display(description="Instructions missing in")
    def missing_languages(self, platform):
        """The languages this platform's customers get the English steps in (with a note saying so)."""
        have = {template.language for template in platform.published}
        missing = [name for code, name in settings.LANGUAGES if code not in have]
        return ", ".join(missing) or "—"

    @admin.display(description="Its texts missing in")
    def texts_missing_in(self, platform):
        """The languages whose customers read this platform's "what goes in it" or "why the workaround
        can't work" in English (edit them under Translations)."""
        names = dict(settings.LANGUAGES)
        return ", ".join(names[code] for code in platform.untranslated_languages()) or "—"


class VersionedAdmin(admin.ModelAdmin):
    """The admin of a versioned text (models.Versioned): an edit of a published version becomes a new
    draft, drafts are published from the list, and each version has a preview page, drawn by the
    subclass's ``preview_view(request, version)``."""

    readonly_fields = ["version", "status", "published_at", "created_by", "preview"]
    actions = ["publish_drafts"]

    def preview_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_preview"

    def preview(self, obj):
        if not obj.pk:
            return "Save first to preview."
        return format_html(
            '<a href="{}">Preview with sample values</a>',
            reverse(f"admin:{self.preview_url_name()}", args=[obj.pk]),
        )

    def save_model(self, request, obj, form, change):
        # A published (or retired) version is never changed in place: the edit becomes a new draft.
        if change and obj.status != obj.DRAFT:
            obj.pk = None  # saved as a new row
            obj.status = obj.DRAFT
            obj.published_at = None
            messages.info(request, "Saved as a new draft version; the published version is unchanged.")
        elif change and self.moved_to_another_text(obj):
            # Its number belongs to the text it left: in the one it joins, that number may be taken (the
            # database refuses a second), so it takes that text's next one and no version there changes.
            number = obj.version
            obj.version = next_version(obj)
            if obj.version != number:
                messages.info(request, f"The draft now belongs to another text and was renumbered: {obj}.")
        if obj.pk is None:
            obj.version = next_version(obj)
        obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    def moved_to_another_text(self, draft) -> bool:
        """Whether an edit gave a saved draft another subject (a snippet's title or platform, a template's
        language, platform or signature)."""
        stored = type(draft).objects.filter(pk=draft.pk).first()
        return stored is not None and stored.subject_filter() != draft.subject_filter()

    # Publishing changes what every customer reads: it takes the right to change the texts, as editing
    # does, not only to view them.
    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish_drafts(self, request, queryset):
        selected = list(queryset.select_related("platform").order_by("version"))
        drafts = [version for version in selected if version.status == version.DRAFT]
        if not drafts:
            self.message_user(
                request,
                "Nothing was published: none of the selected versions is a draft. Editing a published "
                "version saves a new draft to publish.",
                messages.WARNING,
            )
            return
        # Only one version of a text is what customers see: of two drafts of it, which one was meant?
        of_one_text: dict[tuple, list] = {}
        for draft in drafts:
            of_one_text.setdefault(tuple(draft.subject_filter().items()), []).append(draft)
        doubled = [
            " and ".join(str(draft) for draft in group) for group in of_one_text.values() if len(group) > 1
        ]
        if doubled:
            self.message_user(
                request,
                f"Nothing was published: select one draft of each text. Selected together: {'; '.join(doubled)}.",
                messages.ERROR,
            )
            return
        # Named as they were when selected: publishing a draft retires its text's published version.
        not_drafts = [str(version) for version in selected if version.status != version.DRAFT]
        for draft in drafts:
            publish(draft)
        published = f"Published {len(drafts)} draft{'s' if len(drafts) > 1 else ''}."
        if not_drafts:
            named = ", ".join(not_drafts[:10]) + (
                f" and {len(not_drafts) - 10} more" if len(not_drafts) > 10 else ""
            )
            published += f" Not drafts, so not published: {named}."
        self.message_user(request, published)

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_page),
                name=self.preview_url_name(),
            ),
            *super().get_urls(),
        ]

    def preview_page(self, request, pk):
        """A version's preview, for those who may see the version itself, as its change page is."""
        version = self.get_object(request, str(pk))
        if version is None:
            raise Http404(f"No {self.opts.verbose_name} with the number {pk}.")
        if not self.has_view_or_change_permission(request, version):
            raise PermissionDenied
        return self.preview_view(request, version)

    def preview_view(self, request, version):
        raise NotImplementedError


class StaffText(forms.CharField):
    """A catalog text as typed in a browser. The browser counts a line break as one character against the
    box's ``maxlength`` but sends it as two (CR LF): kept as one, the length is the one the box allowed."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class InstructionTemplateForm(forms.ModelForm):
    class Meta:
        model = InstructionTemplate
        fields = ["platform", "signature", "language", "body"]
        field_classes = {"body": StaffText}
        help_texts = {
            "body": "Plain text, one step per line; start a line with “! ” for a warning. Placeholders: "
            + ", ".join(f"{{{{ {name} }}}}" for name in VARIABLES),
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        problems = validate(body)
        if problems:
            raise forms.ValidationError(problems)
        return body

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("platform") and not cleaned.get("signature"):
            raise forms.ValidationError("Choose a platform, or a signature for a generic template.")
        return cleaned


@admin.register(InstructionTemplate)
class InstructionTemplateAdmin(VersionedAdmin):
    form = InstructionTemplateForm
    list_display = ["__str__", "language", "status", "version", "published_at", "created_by", "preview"]
    list_filter = ["status", "language", "signature"]
    search_fields = ["platform__name", "body"]

    def preview_view(self, request, template):
        with translation.override(template.language):  # the sample values in the template's language
            values = sample_values(template.platform.name if template.platform else "Example App")
        problems = validate(template.body)
        return TemplateResponse(
            request,
            "catalog/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Preview: {template}",
                "template": template,
                "steps": [] if problems else render(template.body, values),
                "problems": problems,
            },
        )


class SnippetForm(forms.ModelForm):
    class Meta:
        model = Snippet
        fields = ["platform", "title", "format", "position", "body"]
        field_classes = {"body": StaffText}
        help_texts = {
            "body": "The app's own syntax, as its docs write it. Placeholders: "
            + ", ".join(f"{{{{ {name} }}}}" for name in snippets.SLOTS)
            + ". Write each where a whole value goes, without quotes: the format adds them (docs/staff.md).",
        }

    def clean(self):
        cleaned = super().clean()
        if "body" in cleaned and cleaned.get("format"):
            problems = snippets.validate(cleaned["body"], cleaned["format"])
            if problems:
                self.add_error("body", problems)
        return cleaned


@admin.register(Snippet)
class SnippetAdmin(VersionedAdmin):
    form = SnippetForm
    list_display = ["__str__", "format", "status", "version", "published_at", "created_by", "preview"]
    list_filter = ["status", "format"]
    search_fields = ["platform__name", "title", "body"]

    def preview_view(self, request, snippet):
        values = snippets.sample_values()
        problems = snippets.validate(snippet.body, snippet.format)
        return TemplateResponse(
            request,
            "catalog/snippet_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Preview: {snippet}",
                "snippet": snippet,
                "values": values,
                "filled": "" if problems else snippets.filled(snippet.body, snippet.format, values),
                "shown": ""
                if problems
                else "".join(
                    part.text for part in snippets.parts(snippet.body, snippet.format, values["username"])
                ),
                "problems": problems,
            },
        )
