"""Text banks for the simulated clinic: goals, check-in comments, therapist reflections.

Everything here is invented for the demo. Goals are phrased the way clients tend
to phrase them (concrete, first person, sometimes vague); Spanish goals and
comments are written for Spanish-speaking clients and avoid gendered adjectives so
they fit any client. Reflections are the therapist's own first-person notes about
their reactions (countertransference) and questions for supervision; they never
contain clinical notes about the client beyond what prompts the reaction.
"""

from __future__ import annotations

import random
from typing import Literal

Language = Literal["en", "es"]
Dimension = Literal["bond", "goals", "tasks"]
ReflectionContext = Literal["rupture", "risk", "deterioration", "missed", "progress", "general"]

# Goals are grouped by theme so that one client's two or three goals cover
# different areas of life instead of repeating one idea.
GOALS: dict[Language, tuple[tuple[str, ...], ...]] = {
    "en": (
        (
            "Feel like myself again",
            "Get out of bed on weekdays without dreading the day",
            "Enjoy things I used to like, like cooking and music",
            "Stop being so hard on myself",
            "Have more good days than bad days",
        ),
        (
            "Take the bus to work without panicking",
            "Worry less about my health",
            "Go to the supermarket on my own",
            "Speak up in meetings at work",
            "Stop checking everything three times before I leave the house",
            "Handle stress at work without snapping",
        ),
        (
            "Sleep through the night most nights",
            "Fall asleep without my mind racing",
            "Cut down on drinking in the evenings",
            "Get back into running",
        ),
        (
            "Argue less with my partner",
            "Reconnect with my sister",
            "See my friends at least once a week",
            "Set boundaries with my mother",
            "Feel less lonely since the move",
            "Talk to my kids without shouting",
        ),
        (
            "Go back to work full time",
            "Finish my college course",
            "Grieve for my dad without shutting everyone out",
            "Feel confident enough to apply for new jobs",
            "Make decisions without asking everyone first",
        ),
    ),
    "es": (
        (
            "Volver a sentirme yo",
            "Levantarme entre semana sin angustia",
            "Disfrutar otra vez de cocinar y de la música",
            "Dejar de exigirme tanto",
            "Tener más días buenos que malos",
        ),
        (
            "Ir al trabajo en autobús sin ataques de pánico",
            "Preocuparme menos por mi salud",
            "Hacer la compra sin compañía",
            "Hablar en las reuniones del trabajo",
            "Dejar de revisar todo tres veces antes de salir de casa",
            "Manejar el estrés del trabajo sin explotar",
        ),
        (
            "Dormir toda la noche casi siempre",
            "Dormirme sin que la cabeza me dé vueltas",
            "Beber menos por las noches",
            "Volver a salir a caminar por las mañanas",
        ),
        (
            "Discutir menos con mi pareja",
            "Recuperar la relación con mi hermana",
            "Ver a mis amistades al menos una vez por semana",
            "Poner límites con mi madre",
            "Sentir menos soledad desde la mudanza",
            "Hablar con mis hijos sin gritar",
        ),
        (
            "Volver a trabajar a tiempo completo",
            "Terminar mis estudios",
            "Llevar el duelo por mi padre sin aislarme de todos",
            "Tener confianza para buscar otro trabajo",
            "Tomar decisiones sin preguntar a todo el mundo",
        ),
    ),
}

# Answers to "What could have been better today?". Most check-ins leave it empty.
BETTER_NEUTRAL: dict[Language, tuple[str, ...]] = {
    "en": (
        "Nothing, it was helpful.",
        "Nothing really",
        "All good today",
        "Nothing - thank you",
        "It was fine",
        "More time maybe",
        "Could we start on time next week?",
        "Good session, I feel lighter",
    ),
    "es": (
        "Nada, me ayudó mucho.",
        "Nada en realidad",
        "Todo bien hoy",
        "Nada, gracias",
        "Estuvo bien",
        "Quizás un poco más de tiempo",
        "¿Podemos empezar a la hora la próxima vez?",
        "Buena sesión, salgo con la cabeza más tranquila",
    ),
}

BETTER_MILD: dict[Language, tuple[str, ...]] = {
    "en": (
        "I felt rushed at the end.",
        "It took a while to get going.",
        "I'd have liked more time to talk about work.",
        "The room was a bit cold.",
        "I lost track a bit in the middle.",
        "I was tired today, not your fault.",
    ),
    "es": (
        "Sentí prisa al final.",
        "Costó un poco arrancar.",
        "Me hubiera gustado hablar más del trabajo.",
        "Hacía un poco de frío en la sala.",
        "Me perdí un poco a mitad de sesión.",
        "Hoy venía con poca energía, no es culpa tuya.",
    ),
}

# Critical comments after a planted rupture, by the strained dimension.
BETTER_CRITICAL: dict[Language, dict[Dimension, tuple[str, ...]]] = {
    "en": {
        "bond": (
            "I didn't feel listened to when I talked about my mum.",
            "It felt like you were distracted today.",
            "I felt judged when I mentioned the drinking.",
            "You moved on very quickly from what I said about the break-up.",
            "I didn't feel comfortable today.",
        ),
        "goals": (
            "We keep talking about my childhood but I came here for the panic attacks.",
            "I'm not sure we're working on what matters to me.",
            "I don't know where this is going.",
            "I wanted to talk about my relationship, not my job.",
        ),
        "tasks": (
            "I wasn't sure why we did the breathing exercise again.",
            "The homework doesn't feel useful.",
            "Too many worksheets.",
            "I didn't understand the point of the thought diary.",
            "The exposure plan feels too fast for me.",
        ),
    },
    "es": {
        "bond": (
            "No sentí que me escucharas cuando hablé de mi madre.",
            "Hoy te noté con la cabeza en otra parte.",
            "Sentí que me juzgabas cuando mencioné lo de la bebida.",
            "Pasaste muy rápido por lo que conté de la separación.",
            "Hoy no me sentí a gusto.",
        ),
        "goals": (
            "Hablamos mucho de mi infancia, pero vine por los ataques de pánico.",
            "No sé si estamos trabajando en lo que me importa.",
            "No sé hacia dónde vamos.",
            "Quería hablar de mi relación, no del trabajo.",
        ),
        "tasks": (
            "No entendí por qué repetimos el ejercicio de respiración.",
            "Las tareas para casa no me sirven mucho.",
            "Demasiadas hojas de ejercicios.",
            "No le veo sentido al diario de pensamientos.",
            "El plan de exposición va demasiado rápido para mí.",
        ),
    },
}

# Reflections: a first-person opener about the therapist's own reaction, then,
# often, a question the therapist wants to take to supervision.
REFLECTION_OPENERS: dict[ReflectionContext, tuple[str, ...]] = {
    "rupture": (
        "I noticed I got defensive when {name} said the exercises weren't helping, "
        "and I moved on too quickly instead of staying with it.",
        "Something shifted halfway through the session with {name} and I didn't name it. "
        "I left feeling uneasy.",
        "{name} went quiet after I pushed on the homework. I felt a pull to reassure "
        "rather than to explore what had happened.",
        "I was more directive than usual with {name} today, and I think {name} felt "
        "steamrollered. I recognise that urge to fix things when I feel stuck.",
        "I felt hurt when {name} said the sessions weren't going anywhere, and I suspect "
        "it showed on my face.",
    ),
    "risk": (
        "I felt anxious for the rest of the afternoon after {name}'s answer to the question "
        "about thoughts of death. We made a safety plan, but I keep replaying it.",
        "I noticed I switched into risk-assessment mode with {name} and lost some warmth. "
        "I want to check whether that is how it felt on the other side.",
        "Hearing {name} talk about not wanting to be here brought back a case from years "
        "ago. I was more shaken than I let on.",
    ),
    "deterioration": (
        "{name}'s scores keep going up and I feel a sense of failure that I recognise "
        "from other cases.",
        "I'm noticing I dread the sessions with {name} since things got worse, and I "
        "suspect that shows.",
        "I keep telling myself it gets worse before it gets better with {name}, and I'm "
        "no longer sure I believe it.",
    ),
    "missed": (
        "{name} missed last week. When the session didn't happen I felt relieved, then "
        "guilty about feeling relieved.",
        "After the missed appointment I wondered whether our previous session felt like "
        "too much for {name}. We only touched on it briefly today.",
        "I was irritated about the missed session and caught myself being a bit cool with "
        "{name} at the start today.",
    ),
    "progress": (
        "Good session with {name}. I felt genuinely moved when {name} talked about "
        "reconnecting with an old friend.",
        "I noticed how much I look forward to seeing {name} now. Worth asking myself whether "
        "I'm making it too comfortable to challenge anything.",
        "{name} did the hard thing this week and I felt proud, almost parental. I want to "
        "keep the credit where it belongs.",
    ),
    "general": (
        "I felt very protective of {name} today. I want to keep an eye on that.",
        "I found myself bored and drifting in parts of the session with {name}. Bored "
        "usually means something is being avoided, by one of us.",
        "{name} reminds me of someone in my own family, and I noticed I was more directive "
        "than usual.",
        "I laughed along with {name}'s jokes about the divorce and I'm not sure it helped.",
        "I ran over time with {name} again. I find it hard to end sessions with {name} "
        "and I don't fully understand why.",
        "I felt tired and a bit flat going into the session with {name}; more about my "
        "week than about {name}.",
    ),
}

# The reactions each opener describes (code -> intensity 1-3, alliance.alerts.reactions), in the
# order of REFLECTION_OPENERS, so that the demo's checklists say what its texts say.
REFLECTION_REACTIONS: dict[ReflectionContext, tuple[dict[str, int], ...]] = {
    "rupture": (
        {"frustrated": 3, "anxious": 1},
        {"anxious": 2},
        {"protective": 3, "anxious": 2},
        {"frustrated": 3, "helpless": 2},
        {"irritated": 2, "helpless": 2},
    ),
    "risk": (
        {"anxious": 3},
        {"anxious": 3, "protective": 2},
        {"anxious": 3, "helpless": 2},
    ),
    "deterioration": (
        {"helpless": 3},
        {"anxious": 2, "helpless": 3},
        {"helpless": 3, "frustrated": 1},
    ),
    "missed": (
        {"bored": 2, "anxious": 1},
        {"anxious": 1, "protective": 2},
        {"irritated": 3},
    ),
    "progress": (
        {"moved": 3, "hopeful": 2},
        {"hopeful": 2, "overinvolved": 3},
        {"moved": 2, "hopeful": 2, "overinvolved": 3},
    ),
    "general": (
        {"protective": 3},
        {"bored": 3},
        {"overinvolved": 2},
        {"overinvolved": 1},
        {"overinvolved": 3},
        {"bored": 2},
    ),
}

SUPERVISION_QUESTIONS: dict[ReflectionContext, tuple[str, ...]] = {
    "rupture": (
        "For supervision: how do I bring this back without making it about me?",
        "Question for supervision: was I pushing my own agenda?",
        "I'd like to think in supervision about how to invite more disagreement.",
    ),
    "risk": (
        "I'd value supervision on holding risk without it taking over the sessions.",
        "For supervision: is the safety plan enough, or should we involve the GP?",
    ),
    "deterioration": (
        "Should we review the formulation or consider a change of approach?",
        "For supervision: is it time to talk with {name} about a different kind of help?",
    ),
    "missed": (
        "For supervision: how do I raise the missed sessions without sounding punitive?",
        "Question for supervision: is the missing itself the message?",
    ),
    "progress": (
        "For supervision: how do we start thinking about an ending?",
        "Worth bringing to supervision: what am I not seeing because things are going well?",
    ),
    "general": (
        "Something to take to supervision.",
        "For supervision: what is this stirring up in me?",
        "Question for supervision: am I colluding with the avoidance?",
    ),
}


def choose_goals(rng: random.Random, language: Language, count: int) -> list[str]:
    """``count`` (1-3) goals from different themes, in the client's language."""
    themes = rng.sample(GOALS[language], k=count)
    return [rng.choice(theme) for theme in themes]


def better_text(rng: random.Random, language: Language, kind: Literal["neutral", "mild"]) -> str:
    """A short everyday comment: ``neutral`` (nothing to add) or ``mild`` criticism."""
    bank = BETTER_NEUTRAL if kind == "neutral" else BETTER_MILD
    return rng.choice(bank[language])


def critical_text(rng: random.Random, language: Language, dimension: Dimension) -> str:
    """A pointed comment about the strained dimension after a rupture."""
    return rng.choice(BETTER_CRITICAL[language][dimension])


def reflection_text(rng: random.Random, context: ReflectionContext, name: str) -> str:
    """A first-person therapist reflection, often ending with a supervision question."""
    text = rng.choice(REFLECTION_OPENERS[context])
    if rng.random() < 0.6:
        text = f"{text} {rng.choice(SUPERVISION_QUESTIONS[context])}"
    return text.format(name=name)


def reflection_reactions(context: ReflectionContext, text: str, name: str) -> dict[str, int]:
    """The reactions of the opener `text` starts with (reflection_text's output); no randomness, so
    adding them changes nothing else the simulation draws."""
    openers = zip(REFLECTION_OPENERS[context], REFLECTION_REACTIONS[context], strict=True)
    for opener, reactions in openers:
        if text.startswith(opener.format(name=name)):
            return dict(reactions)
    return {}
