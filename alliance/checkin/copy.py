"""Every word a client reads on the check-in pages, in each supported language.

Why a dictionary and not gettext: the client pages are the only translated part of Alliance, the text is
short and reviewed as a whole by a clinician, and a dictionary needs no compiled .mo files (a fresh
machine with only python3 has no msgfmt). tests/checkin/test_copy.py checks every language has every
key. Instrument wording (PHQ-9, GAD-7, check-in items) lives with the instruments, not here.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "es")
LANGUAGE_NAMES: Final = {"en": "English", "es": "Español"}

COPY: Final[dict[str, dict[str, str]]] = {
    "en": {
        "page_title": "Your check-in",
        "intro": "This takes about a minute. Your answers go to your therapist and help the two of you see how things are going.",
        "before_heading": "Before your session",
        "before_text": "A few questions about the last two weeks.",
        "after_heading": "After your session",
        "after_text": "How was the session for you? Your therapist wants to know what didn't work, not only what did.",
        "start": "Start",
        "done": "Done, thank you",
        "not_yet": "Not done yet",
        "next": "Continue",
        "submit": "Send my answers",
        "saving": "Sending…",
        "required_note": "Questions marked * need an answer.",
        "optional": "optional",
        "error_summary": "Please check the answers below:",
        "error_required": "Please choose an answer.",
        "error_range": "Please choose one of the options shown.",
        "error_saving": "We couldn't save your answers just now. They are still here: please press the button again in a moment.",
        # A goal whose words could not be read just now (a database error): named by its number.
        "goal_unread": "goal {number}",
        "error_session": "Your page had been open for a while, so we need you to press the button once more. Your answers are still here.",
        "thanks_heading": "Thank you",
        "thanks_text": "Your answers are saved. You can close this page.",
        "thanks_more": "There is one more part you can fill in:",
        "all_done": "You've answered everything for this session. Thank you.",
        "back_to_start": "Back to the start",
        "expired_heading": "This link is no longer active",
        "expired_text": "Check-in links work for a limited time after each appointment. Your therapist can give you a new one.",
        "not_found_heading": "This link doesn't work",
        "not_found_text": "Please check that you copied the whole link, or ask your therapist for a new one.",
        "rate_limited_heading": "Please wait a little",
        "rate_limited_text": "There were too many attempts from this connection. Please try again later.",
        "after_opens": "These questions are about your session, so they open as it ends: from {when}.",
        "after_not_open": "These questions open as your session ends, so we couldn't take your answers yet. They are still here: please send them after your session.",
        # Django date formats (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date). The
        # weekday is there because a link is often opened the day before: "from 2 December" alone
        # leaves the client counting.
        "when_format": "l j F \\a\\t H:i",
        "date_format": "j F Y",
        "language": "Language",
        "support_heading": "You don't have to face this alone",
        "support_text": "Thank you for telling us. Your therapist will see your answer and will contact you. If you are in danger now, or might act on these thoughts, please get help straight away:",
        "support_continue": "Continue with the questions",
        "support_inline": "If you are having thoughts of harming yourself, help is available right now:",
        "plan_heading": "Your safety plan",
        "plan_intro": "The plan you wrote with your therapist. Start at the top and go down the list until you feel safer.",
        "plan_updated": "Last updated",
        "crisis_link": "Need help now? Crisis lines",
        "speak_up_heading": "Something not right?",
        "speak_up_text": "If something about your therapy or your therapist worries you, you can tell the clinic. Your therapist will not see this message: it goes to their supervisor and the clinic's management.",
        "speak_up_link": "Raise a concern with the clinic",
        "pause_text": "You can pause or end therapy at any time. That is always your choice.",
        "concern_heading": "Raise a concern with the clinic",
        "concern_intro": "This message goes to the clinical supervisor and the clinic's management, not to your therapist. You don't need to give a reason for feeling uncomfortable.",
        "concern_label": "What would you like the clinic to know?",
        "concern_unsafe": "I feel unsafe with my therapist",
        "concern_contact": "I would like the clinic to contact me",
        "concern_contact_label": "How should we contact you? (phone or email)",
        "concern_send": "Send to the clinic",
        "concern_required": "Please write a few words, so the clinic knows what to look into.",
        "concern_thanks_heading": "Your message has reached the clinic",
        "concern_thanks_text": "Thank you for telling us. Someone other than your therapist will read it.",
        "scale_low": "Not at all",
        "scale_high": "Completely",
        "scale_hint": "0 is the lowest, 10 the highest.",
        "goal_prefix": "Your goal:",
    },
    "es": {
        "page_title": "Su valoración",
        "intro": "Le llevará más o menos un minuto. Sus respuestas le llegan a su terapeuta y les ayudan a ver cómo van las cosas.",
        "before_heading": "Antes de la sesión",
        "before_text": "Unas preguntas sobre las últimas dos semanas.",
        "after_heading": "Después de la sesión",
        "after_text": "¿Cómo fue la sesión para usted? Su terapeuta quiere saber qué no funcionó, no solo lo que sí.",
        "start": "Empezar",
        "done": "Hecho, gracias",
        "not_yet": "Pendiente",
        "next": "Continuar",
        "submit": "Enviar mis respuestas",
        "saving": "Enviando…",
        "required_note": "Las preguntas marcadas con * necesitan respuesta.",
        "optional": "opcional",
        "error_summary": "Revise las respuestas de abajo:",
        "error_required": "Elija una respuesta, por favor.",
        "error_range": "Elija una de las opciones que aparecen.",
        "error_saving": "No hemos podido guardar sus respuestas en este momento. Siguen aquí: vuelva a pulsar el botón dentro de un momento.",
        "goal_unread": "objetivo {number}",
        "error_session": "La página llevaba un rato abierta, así que necesitamos que pulse el botón otra vez. Sus respuestas siguen aquí.",
        "thanks_heading": "Gracias",
        "thanks_text": "Sus respuestas se han guardado. Ya puede cerrar esta página.",
        "thanks_more": "Queda una parte más que puede completar:",
        "all_done": "Ha respondido todo lo de esta sesión. Gracias.",
        "back_to_start": "Volver al inicio",
        "expired_heading": "Este enlace ya no está activo",
        "expired_text": "Los enlaces funcionan durante un tiempo limitado después de cada cita. Su terapeuta puede darle uno nuevo.",
        "not_found_heading": "Este enlace no funciona",
        "not_found_text": "Compruebe que ha copiado el enlace completo o pida uno nuevo a su terapeuta.",
        "rate_limited_heading": "Espere un poco, por favor",
        "rate_limited_text": "Ha habido demasiados intentos desde esta conexión. Vuelva a intentarlo más tarde.",
        "after_opens": "Estas preguntas son sobre su sesión, así que se abren cuando termina: a partir del {when}.",
        "after_not_open": "Estas preguntas se abren cuando termina la sesión, así que todavía no hemos podido recoger sus respuestas. Siguen aquí: envíelas después de la sesión.",
        "when_format": "l j \\d\\e F \\a \\l\\a\\s H:i",
        "date_format": "j \\d\\e F \\d\\e Y",
        "language": "Idioma",
        "support_heading": "No tiene que pasar por esto a solas",
        "support_text": "Gracias por decírnoslo. Su terapeuta verá su respuesta y se pondrá en contacto con usted. Si está en peligro ahora o cree que podría actuar según esos pensamientos, busque ayuda de inmediato:",
        "support_continue": "Seguir con las preguntas",
        "support_inline": "Si tiene pensamientos de hacerse daño, hay ayuda disponible ahora mismo:",
        "plan_heading": "Su plan de seguridad",
        "plan_intro": "El plan que escribió con su terapeuta. Empiece por arriba y siga la lista hasta que se sienta más seguro o segura.",
        "plan_updated": "Última actualización",
        "crisis_link": "¿Necesita ayuda ahora? Líneas de crisis",
        "speak_up_heading": "¿Algo no va bien?",
        "speak_up_text": "Si algo de su terapia o de su terapeuta le preocupa, puede decírselo al centro. Su terapeuta no verá este mensaje: llega a su supervisor(a) y a la dirección del centro.",
        "speak_up_link": "Comunicar una preocupación al centro",
        "pause_text": "Puede pausar o terminar la terapia en cualquier momento. Siempre es su decisión.",
        "concern_heading": "Comunicar una preocupación al centro",
        "concern_intro": "Este mensaje llega a la supervisión clínica y a la dirección del centro, no a su terapeuta. No necesita justificar por qué se siente incómodo(a).",
        "concern_label": "¿Qué le gustaría que supiera el centro?",
        "concern_unsafe": "No me siento seguro(a) con mi terapeuta",
        "concern_contact": "Me gustaría que el centro se pusiera en contacto conmigo",
        "concern_contact_label": "¿Cómo podemos contactarle? (teléfono o correo)",
        "concern_send": "Enviar al centro",
        "concern_required": "Escriba unas palabras, por favor, para que el centro sepa qué revisar.",
        "concern_thanks_heading": "Su mensaje ha llegado al centro",
        "concern_thanks_text": "Gracias por decírnoslo. Lo leerá una persona distinta de su terapeuta.",
        "scale_low": "Nada",
        "scale_high": "Totalmente",
        "scale_hint": "0 es lo más bajo y 10 lo más alto.",
        "goal_prefix": "Su objetivo:",
    },
}

DEFAULT_CRISIS_RESOURCES: Final = {
    "en": (
        "If you are in immediate danger, call your local emergency number now (112 in the EU, 999 in the "
        "UK, 911 in the US and Canada) or go to the nearest emergency department.\n\n"
        "You can also call or text a crisis line, day or night: 988 in the US, Samaritans on 116 123 in the "
        "UK and Ireland, or your country's crisis line.\n\n"
        "You can also call the clinic during opening hours."
    ),
    "es": (
        "Si está en peligro inmediato, llame ahora al número de emergencias (112 en la UE y España, 911 en "
        "EE. UU. y gran parte de Latinoamérica) o acuda a urgencias.\n\n"
        "También puede llamar a una línea de crisis a cualquier hora: 024 en España, 988 (en español) en "
        "EE. UU., o la línea de crisis de su país.\n\n"
        "También puede llamar al centro en su horario de atención."
    ),
}


def copy_for(lang: str) -> dict[str, str]:
    return COPY[lang if lang in COPY else "en"]
