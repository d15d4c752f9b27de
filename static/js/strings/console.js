// strings/console.js — the texts of the instructor's console (/admin) and its login form, and of
// any control that calls the admin API (the console, the lab's Apply buttons), in English and
// French. Gathered into one table by shared/i18n.js.

export const CONSOLE_STRINGS = {
  "admin.title": { en: "Instructor console", fr: "Console de l'enseignant" },
  "admin.logout": { en: "Log out", fr: "Se déconnecter" },
  "admin.intro": {
    en: "Each control applies <strong>at once</strong> to every client of this server; every dashboard and lab page shows the change within a second (the strip below is what they see). Errors appear next to the control that caused them.",
    fr: "Chaque réglage s'applique <strong>immédiatement</strong> à tous les clients de ce serveur ; chaque tableau de bord et chaque page de TP affiche le changement en moins d'une seconde (le bandeau ci-dessous est ce qu'ils voient). Les erreurs s'affichent à côté du réglage qui les a causées.",
  },
  "admin.error.load": { en: "The current settings could not be read: {why}", fr: "Les réglages actuels n'ont pas pu être lus : {why}" },

  "admin.feed.title": { en: "The feed", fr: "Le flux" },
  "admin.feed.help": { en: "The built-in generator publishes one tick every 1/rate seconds; chat messages come on top.", fr: "Le générateur intégré publie un tick toutes les 1/débit secondes ; les messages de chat s'y ajoutent." },
  "admin.rate": { en: "Feed rate", fr: "Débit du flux" },
  "admin.rate_slider": { en: "Feed rate, on a 1-2-5 scale", fr: "Débit du flux, sur une échelle 1-2-5" },
  "admin.per_second": { en: "events/s (0 to 1000)", fr: "événements/s (0 à 1000)" },
  "admin.payload": { en: "Payload per tick", fr: "Charge utile par tick" },
  "admin.bytes": { en: "bytes (0 to 65536)", fr: "octets (0 à 65536)" },
  "admin.fault.bytes_per_s_times": { en: "B/s ×", fr: "o/s ×" },
  "admin.payload_help": { en: "Padding added to each tick (data.pad): compare the headers' share when events are small or large.", fr: "Remplissage ajouté à chaque tick (data.pad) : comparez la part des en-têtes quand les événements sont petits ou gros." },
  "admin.feed_state": { en: "Generator", fr: "Générateur" },
  "admin.pause_feed": { en: "Pause the feed", fr: "Mettre le flux en pause" },
  "admin.resume_feed": { en: "Resume the feed", fr: "Reprendre le flux" },
  "admin.pause_help": { en: "Paused, no tick is published; chat still flows. The rate is kept.", fr: "En pause, aucun tick n'est publié ; le chat passe toujours. Le débit est conservé." },
  "admin.burst": { en: "Burst", fr: "Rafale" },
  "admin.burst_button": { en: "Publish at once", fr: "Publier d'un coup" },
  "admin.burst_help": { en: "N ticks published in the same instant (1 to 10000): watch who receives them in one answer and who one by one.", fr: "N ticks publiés au même instant (1 à 10000) : regardez qui les reçoit en une seule réponse et qui un par un." },
  "admin.burst_done": { en: "published {n}, last seq {seq} ({time})", fr: "{n} publiés, dernier seq {seq} ({time})" },

  "admin.network.title": { en: "Simulated network", fr: "Réseau simulé" },
  "admin.network.help": { en: "Delays and limits the server applies before answering, to show each transport on a slower network.", fr: "Délais et limites que le serveur applique avant de répondre, pour voir chaque transport sur un réseau plus lent." },
  "admin.delays": { en: "Added delay per transport (0 to 10000 ms)", fr: "Délai ajouté par transport (0 à 10000 ms)" },
  "admin.longpoll_cap": { en: "Long-poll hold cap", fr: "Attente max du long polling" },
  "admin.longpoll_cap_help": { en: "The longest the server holds a long poll (100 to 300000 ms); a longer timeout asked by a client is shortened to it.", fr: "Le plus long que le serveur garde un long polling (100 à 300000 ms) ; un délai plus long demandé par un client est ramené à cette valeur." },
  "admin.poll_interval": { en: "Suggested short-poll interval", fr: "Intervalle de polling court suggéré" },
  "admin.poll_interval_help": { en: "Every dashboard and lab page adopts it (100 to 60000 ms); a student may still choose another until your next suggestion.", fr: "Chaque tableau de bord et chaque page de TP l'adopte (100 à 60000 ms) ; un étudiant peut en choisir un autre jusqu'à votre prochaine suggestion." },

  "admin.limits.title": { en: "Limits per client address", fr: "Limites par adresse de client" },
  "admin.limits.help": {
    en: "One script posting thousands of chats a second would flood the feed, and forged latency reports would bend the class's figures. Beyond these paces an address is answered 429 with Retry-After (an error frame on a WebSocket, which stays open). A class behind one NAT shares one address.",
    fr: "Un script qui poste des milliers de messages par seconde inonderait le flux, et de faux rapports de latence fausseraient les chiffres de la classe. Au-delà de ces rythmes, une adresse reçoit 429 avec Retry-After (une trame d'erreur sur une WebSocket, qui reste ouverte). Une classe derrière un même NAT partage une adresse.",
  },
  "admin.per_minute": { en: "per minute (1 to 60000)", fr: "par minute (1 à 60000)" },
  "admin.chat_per_min": { en: "Chat messages", fr: "Messages de chat" },
  "admin.chat_per_min_help": {
    en: "Per address, all transports together (JSON, classic form, WebSocket). A third of it may come in a row; then the pace applies.",
    fr: "Par adresse, tous transports confondus (JSON, formulaire classique, WebSocket). Un tiers peut arriver d'affilée ; ensuite le rythme s'applique.",
  },
  "admin.reports_per_min": { en: "Latency reports", fr: "Rapports de latence" },
  "admin.reports_per_min_help": {
    en: "POST /api/client-metrics per address; a dashboard tab sends at most 150 a minute. A report is also refused (400) if it holds more latencies than events its address was sent, or latencies longer than the server has been running.",
    fr: "POST /api/client-metrics par adresse ; un onglet du tableau de bord en envoie au plus 150 par minute. Un rapport est aussi refusé (400) s'il contient plus de latences que d'événements envoyés à son adresse, ou des latences plus longues que la durée de fonctionnement du serveur.",
  },

  "admin.faults.title": { en: "Faults", fr: "Pannes" },
  "admin.faults.help": {
    en: "<strong>Drop</strong> cuts every open connection of a transport abruptly (a WebSocket gets no close frame: code 1006). <strong>Slow</strong> writes to its clients at B bytes/s for S seconds. <strong>Refuse</strong> answers its new requests <code>503</code> with <code>Retry-After</code> for S seconds. Then watch the panels reconnect and resume.",
    fr: "<strong>Couper</strong> interrompt brutalement toutes les connexions ouvertes d'un transport (une WebSocket ne reçoit pas de trame close : code 1006). <strong>Ralentir</strong> écrit vers ses clients à B octets/s pendant S secondes. <strong>Refuser</strong> répond <code>503</code> avec <code>Retry-After</code> à ses nouvelles requêtes pendant S secondes. Regardez ensuite les panneaux se reconnecter et reprendre.",
  },
  "faults.transport": { en: "transport", fr: "transport" },
  "faults.now": { en: "now (server)", fr: "en ce moment (serveur)" },
  "faults.drop": { en: "drop", fr: "couper" },
  "faults.slow": { en: "slow (bytes/s × seconds)", fr: "ralentir (octets/s × secondes)" },
  "faults.refuse": { en: "refuse (seconds)", fr: "refuser (secondes)" },
  "faults.clear": { en: "clear", fr: "effacer" },
  "faults.slow_rate_label": { en: "{transport}: slow down to bytes per second", fr: "{transport} : ralentir à octets par seconde" },
  "faults.seconds_label": { en: "{transport}: for how many seconds", fr: "{transport} : pendant combien de secondes" },
  "faults.drop_button": { en: "Drop", fr: "Couper" },
  "faults.no_drop": { en: "Nothing to drop: this transport holds no connection between requests (use refuse or slow).", fr: "Rien à couper : ce transport ne garde aucune connexion entre deux requêtes (utilisez refuser ou ralentir)." },
  "faults.slow_button": { en: "Slow down", fr: "Ralentir" },
  "faults.refuse_button": { en: "Refuse", fr: "Refuser" },
  "faults.clear_button": { en: "Clear", fr: "Effacer" },
  "faults.dropped": { en: "dropped {n} connection(s) ({time})", fr: "{n} connexion(s) coupée(s) ({time})" },
  "faults.slowed": { en: "slowed to {rate}/s for {seconds} s ({time})", fr: "ralenti à {rate}/s pendant {seconds} s ({time})" },
  "faults.refusing_for": { en: "refusing for {seconds} s ({time})", fr: "refus pendant {seconds} s ({time})" },
  "faults.cleared": { en: "cleared ({time})", fr: "effacé ({time})" },
  "faults.drops_so_far": { en: "dropped ×{n} so far", fr: "coupé ×{n} jusqu'ici" },
  "faults.normal": { en: "normal", fr: "normal" },

  "admin.stats.title": { en: "Statistics", fr: "Statistiques" },
  "admin.last_seq": { en: "Last seq:", fr: "Dernier seq :" },
  "admin.open_connections": { en: "open connections:", fr: "connexions ouvertes :" },
  "admin.counters": { en: "Counters", fr: "Compteurs" },
  "admin.reset": { en: "Zero the statistics", fr: "Remettre les statistiques à zéro" },
  "admin.reset_help": { en: "Every counter and histogram of every transport starts again from zero (the feed and its seq go on).", fr: "Tous les compteurs et histogrammes de tous les transports repartent de zéro (le flux et ses seq continuent)." },
  "admin.reset_done": { en: "statistics zeroed ({time})", fr: "statistiques remises à zéro ({time})" },

  // The login form.
  "login.help": {
    en: "Log in with the admin token: pushlab prints it when it starts (or set your own with <code>--admin-token</code> or <code>PUSHLAB_ADMIN_TOKEN</code>). The console then keeps a session cookie (<code>HttpOnly</code>, <code>SameSite=Strict</code>) for 12 hours; the token itself never reaches the page's scripts.",
    fr: "Connectez-vous avec le jeton d'administration : pushlab l'affiche au démarrage (ou choisissez le vôtre avec <code>--admin-token</code> ou <code>PUSHLAB_ADMIN_TOKEN</code>). La console garde ensuite un cookie de session (<code>HttpOnly</code>, <code>SameSite=Strict</code>) pendant 12 heures ; le jeton lui-même n'atteint jamais les scripts de la page.",
  },
  "login.token": { en: "Admin token", fr: "Jeton d'administration" },
  "login.submit": { en: "Log in", fr: "Se connecter" },
  "login.wrong_token": { en: "Wrong token: the server refused it (401). Check the token pushlab printed at start.", fr: "Jeton incorrect : le serveur l'a refusé (401). Vérifiez le jeton affiché par pushlab au démarrage." },
  "login.locked": { en: "Too many wrong tokens from this address: the server refuses every try (429) for {seconds} s more. Wait, then type the token pushlab printed at start.", fr: "Trop de jetons incorrects depuis cette adresse : le serveur refuse tout essai (429) pendant encore {seconds} s. Patientez, puis tapez le jeton affiché par pushlab au démarrage." },
  "login.students": {
    en: "Students: you do not need this page. The dashboard and the lab show everything the instructor sets, live.",
    fr: "Étudiants : vous n'avez pas besoin de cette page. Le tableau de bord et le TP affichent en direct tout ce que règle l'enseignant.",
  },

  // Any control that calls the admin API (controls/report.js).
  "control.sending": { en: "sending…", fr: "envoi…" },
  "control.applied": { en: "applied ({time})", fr: "appliqué ({time})" },
  "control.refused": { en: "Refused by the server: {why}", fr: "Refusé par le serveur : {why}" },
  "control.session_over": { en: "Not allowed (401): {why}", fr: "Non autorisé (401) : {why}" },
  "control.whole_number": { en: "Type a whole number.", fr: "Tapez un nombre entier." },
  "control.number": { en: "Type a number.", fr: "Tapez un nombre." },
};
