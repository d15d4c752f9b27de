// strings/lab.js — the texts of the lab (/lab), in English and French: the page, the "you and
// the class" table, and the eight experiments (goal, setting, what to observe, question). The
// French follows the course slides' words: polling court, long polling, poignée de main,
// sous-protocole, en-têtes, trame, Cross-Site Request Forgery. Gathered by shared/i18n.js.

export const LAB_STRINGS = {
  "lab.title": { en: "Lab: eight guided experiments", fr: "TP : huit expériences guidées" },
  "lab.intro": {
    en: "Each experiment gives a goal, the exact setting, what to watch and a question for your report. This page follows the feed itself, five ways, like the dashboard: the table shows <strong>your</strong> figures (this page) beside the <strong>class's</strong> (the server's totals, every client together). Keep the dashboard open in another tab for the charts.",
    fr: "Chaque expérience donne un objectif, le réglage exact, ce qu'il faut observer et une question pour votre compte rendu. Cette page suit elle-même le flux de cinq façons, comme le tableau de bord : le tableau montre <strong>vos</strong> chiffres (cette page) à côté de ceux de la <strong>classe</strong> (les totaux du serveur, tous clients confondus). Gardez le tableau de bord ouvert dans un autre onglet pour les graphiques.",
  },
  "lab.student_note": {
    en: "Your instructor applies the settings from the console. The strip above shows what is in force now, and each setting below says whether it is.",
    fr: "Votre enseignant applique les réglages depuis sa console. Le bandeau ci-dessus montre ce qui est en vigueur, et chaque réglage ci-dessous indique s'il l'est.",
  },
  "lab.instructor_note": {
    en: "You are logged in as the instructor: each Apply button changes the server for the whole room.",
    fr: "Vous êtes connecté en tant qu'enseignant : chaque bouton Appliquer change le serveur pour toute la salle.",
  },
  "lab.goal": { en: "Goal", fr: "Objectif" },
  "lab.setting": { en: "Setting", fr: "Réglage" },
  "lab.observe": { en: "What to observe", fr: "À observer" },
  "lab.question": { en: "For your report", fr: "Pour votre compte rendu" },
  "lab.apply": { en: "Apply", fr: "Appliquer" },
  "lab.in_effect": { en: "in force now", fr: "en vigueur" },
  "lab.not_in_effect": { en: "not in force now", fr: "pas en vigueur" },
  "lab.calls_help": { en: "The admin API calls this setting takes (what Apply sends)", fr: "Les appels à l'API d'administration que demande ce réglage (ce qu'envoie Appliquer)" },

  // "You and the class".
  "lab.figures.title": { en: "You and the class", fr: "Vous et la classe" },
  "lab.figures.help": {
    en: "you: what this page received over each transport since it opened · class: the server's totals for every client since the last reset (you included).",
    fr: "vous : ce que cette page a reçu par chaque transport depuis son ouverture · classe : les totaux du serveur pour tous les clients depuis la dernière remise à zéro (vous compris).",
  },
  "lab.poll_interval": { en: "Your short-poll interval", fr: "Votre intervalle de polling court" },
  "lab.classic_frame": { en: "The classic page this lab reloads every 3 s", fr: "La page classique que ce TP recharge toutes les 3 s" },
  "lab.who.you": { en: "you", fr: "vous" },
  "lab.who.class": { en: "class", fr: "classe" },
  "lab.col.transport": { en: "transport", fr: "transport" },
  "lab.col.who": { en: "who", fr: "qui" },
  "lab.figures.since": { en: "you: since {you} · class: since {class}", fr: "vous : depuis {you} · classe : depuis {class}" },
  "lab.col.rps": { en: "req/s", fr: "req/s" },
  "lab.col.rps.help": { en: "Requests per second over the same last 10 s of the server's clock, for you and for the class", fr: "Requêtes par seconde sur les mêmes 10 dernières secondes de l'horloge du serveur, pour vous et pour la classe" },
  "lab.col.requests": { en: "requests", fr: "requêtes" },
  "lab.col.requests.help": { en: "HTTP requests (a WebSocket or SSE connection is one request)", fr: "Requêtes HTTP (une connexion WebSocket ou SSE compte pour une requête)" },
  "lab.col.delivered": { en: "events", fr: "événements" },
  "lab.col.delivered.help": { en: "Events received (you) / handed to clients (class)", fr: "Événements reçus (vous) / remis aux clients (classe)" },
  "lab.col.empty": { en: "empty", fr: "vides" },
  "lab.col.empty.help": { en: "Answers that carried no event", fr: "Réponses sans aucun événement" },
  "lab.col.missed": { en: "missed", fr: "manqués" },
  "lab.col.missed.help": { en: "Events lost because they left the replay buffer before being asked for", fr: "Événements perdus parce qu'ils ont quitté le tampon de reprise avant d'être demandés" },
  "lab.col.bytes": { en: "bytes ↓ / event", fr: "octets ↓ / événement" },
  "lab.col.bytes.help": { en: "Bytes from the server, headers included, per event received (≈: estimated by the page)", fr: "Octets venus du serveur, en-têtes compris, par événement reçu (≈ : estimé par la page)" },
  "lab.col.latency": { en: "latency p50", fr: "latence p50" },
  "lab.col.latency.help": { en: "Median end-to-end latency of live deliveries (catch-ups are not timed): measured by this page (you), reported by every browser (class)", fr: "Latence médiane de bout en bout des remises en direct (les rattrapages ne sont pas chronométrés) : mesurée par cette page (vous), rapportée par tous les navigateurs (classe)" },

  // (a) staleness.
  "lab.a.title": { en: "(a) Staleness: one event per second, a short poll every 2 s", fr: "(a) Fraîcheur : un événement par seconde, un polling court toutes les 2 s" },
  "lab.a.goal": {
    en: "See what a polling interval longer than the time between events does to freshness: events wait for the next question, then arrive in batches.",
    fr: "Voir ce que fait un intervalle de polling plus long que l'écart entre deux événements : les événements attendent la question suivante, puis arrivent par paquets.",
  },
  "lab.a.setting": { en: "Feed rate 1 event/s; suggested short-poll interval 2000 ms; statistics zeroed.", fr: "Débit du flux 1 événement/s ; intervalle de polling court suggéré 2000 ms ; statistiques remises à zéro." },
  "lab.a.observe": {
    en: "In the <strong>short polling</strong> row (and panel), events arrive two at a time, with a latency p50 near 1 s and up to 2 s, while <strong>SSE</strong> and <strong>WebSocket</strong> stay at a few milliseconds. Hardly any empty answer: each question finds about two events waiting.",
    fr: "Dans la ligne (et le panneau) <strong>polling court</strong>, les événements arrivent deux par deux, avec une latence p50 proche de 1 s et jusqu'à 2 s, alors que <strong>SSE</strong> et <strong>WebSocket</strong> restent à quelques millisecondes. Presque aucune réponse vide : chaque requête trouve environ deux événements en attente.",
  },
  "lab.a.question": {
    en: "Why is the mean latency of short polling about half the interval? Which interval keeps staleness under 200 ms, and how many requests per second would that cost for 30 students?",
    fr: "Pourquoi la latence moyenne du polling court vaut-elle environ la moitié de l'intervalle ? Quel intervalle garde la fraîcheur sous 200 ms, et combien de requêtes par seconde cela coûterait-il pour 30 étudiants ?",
  },

  // (b) fast feed.
  "lab.b.title": { en: "(b) 50 events/s: long polling turns into polling", fr: "(b) 50 événements/s : le long polling devient du polling" },
  "lab.b.goal": {
    en: "When events come faster than a round trip, each long poll is answered almost at once: its requests per second approach the event rate.",
    fr: "Quand les événements arrivent plus vite qu'un aller-retour, chaque long polling reçoit sa réponse presque aussitôt : ses requêtes par seconde s'approchent du débit des événements.",
  },
  "lab.b.setting": { en: "Feed rate 50 events/s; statistics zeroed.", fr: "Débit du flux 50 événements/s ; statistiques remises à zéro." },
  "lab.b.observe": {
    en: "The <em>req/s</em> column: long polling climbs toward 50 (one request per answer, each carrying one event or a few), short polling stays at one per interval, SSE and WebSocket at 0 (one request for the whole connection). On the dashboard: the <em>Requests per second</em> chart, and <em>requests / event</em> in the cost table.",
    fr: "La colonne <em>req/s</em> : le long polling monte vers 50 (une requête par réponse, chacune portant un ou quelques événements), le polling court reste à une par intervalle, SSE et WebSocket à 0 (une seule requête pour toute la connexion). Sur le tableau de bord : le graphique <em>Requêtes par seconde</em>, et <em>requêtes / événement</em> dans le tableau des coûts.",
  },
  "lab.b.question": {
    en: "Compare the requests per event of long polling and WebSocket at 50 events/s. Using the three phases of a WebSocket (handshake, messages, disconnection), explain why WebSocket pays for its HTTP request only once.",
    fr: "Comparez les requêtes par événement du long polling et de WebSocket à 50 événements/s. En vous appuyant sur les trois phases d'une WebSocket (poignée de main, échange de messages, déconnexion), expliquez pourquoi WebSocket ne paie sa requête HTTP qu'une seule fois.",
  },

  // (c) header overhead.
  "lab.c.title": { en: "(c) Header overhead per event", fr: "(c) Le surcoût des en-têtes par événement" },
  "lab.c.goal": {
    en: "Measure how many bytes each transport spends on the wire for one small event, headers included, and how that share shrinks when events get bigger.",
    fr: "Mesurer combien d'octets chaque transport dépense sur le fil pour un petit événement, en-têtes compris, et comment cette part diminue quand les événements grossissent.",
  },
  "lab.c.setting": {
    en: "Feed rate 5 events/s, payload 0 bytes, statistics zeroed; then the same with a 1024-byte payload.",
    fr: "Débit du flux 5 événements/s, charge utile 0 octet, statistiques remises à zéro ; puis la même chose avec une charge utile de 1024 octets.",
  },
  "lab.c.apply_small": { en: "Apply (no payload)", fr: "Appliquer (sans charge utile)" },
  "lab.c.apply_large": { en: "Apply (1024 bytes)", fr: "Appliquer (1024 octets)" },
  "lab.c.observe": {
    en: "<em>bytes ↓ / event</em>: short and long polling pay a whole HTTP response (status line and headers) for each answer, a few hundred bytes around an event of about 100, plus the request's headers going up; SSE adds only its <code>id:</code>, <code>event:</code> and <code>data:</code> lines; WebSocket a 2-byte frame header. The protocol inspector (section 4) takes one event apart byte by byte.",
    fr: "<em>octets ↓ / événement</em> : les pollings court et long paient une réponse HTTP entière (ligne de statut et en-têtes) à chaque réponse, quelques centaines d'octets autour d'un événement d'environ 100, plus les en-têtes de la requête à l'aller ; SSE n'ajoute que ses lignes <code>id:</code>, <code>event:</code> et <code>data:</code> ; WebSocket un en-tête de trame de 2 octets. L'inspecteur de protocole (section 4) décortique un événement octet par octet.",
  },
  "lab.c.question": {
    en: "For long polling, what share of one event's bytes are headers? With a 1024-byte payload, whose overhead becomes negligible, and why does overhead matter most for small, frequent messages (a chat, a tick)?",
    fr: "Pour le long polling, quelle part des octets d'un événement sont des en-têtes ? Avec une charge utile de 1024 octets, le surcoût de qui devient négligeable, et pourquoi compte-t-il surtout pour des messages petits et fréquents (un chat, un tick) ?",
  },

  // (d) idle.
  "lab.d.title": { en: "(d) 0 events/s: the cost of doing nothing", fr: "(d) 0 événement/s : le prix de ne rien faire" },
  "lab.d.goal": {
    en: "With no event at all, see what each transport still costs just to stay ready.",
    fr: "Sans aucun événement, voir ce que chaque transport coûte encore rien que pour rester prêt.",
  },
  "lab.d.setting": { en: "Feed rate 0 events/s; statistics zeroed; nobody chats for a minute.", fr: "Débit du flux 0 événement/s ; statistiques remises à zéro ; personne ne chatte pendant une minute." },
  "lab.d.observe": {
    en: "Short polling: one request per interval, each answered empty (<em>empty</em> grows, <em>events</em> does not). Long polling: one request per hold (its timeout, capped by the server), empty too. The classic page: a whole page at each reload. SSE and WebSocket: no request and hardly a byte (a keep-alive now and then), but each client keeps a connection open on the server.",
    fr: "Polling court : une requête par intervalle, chacune avec une réponse vide (<em>vides</em> augmente, <em>événements</em> non). Long polling : une requête par attente (son délai, plafonné par le serveur), vide elle aussi. La page classique : une page entière à chaque rechargement. SSE et WebSocket : aucune requête et presque aucun octet (un keep-alive de temps en temps), mais chaque client garde une connexion ouverte sur le serveur.",
  },
  "lab.d.question": {
    en: "Estimate the bytes per minute one idle client costs on each transport, then for 30 students. Which transports are almost free when nothing happens, and what does the server pay for them instead?",
    fr: "Estimez les octets par minute que coûte un client inactif sur chaque transport, puis pour 30 étudiants. Quels transports sont presque gratuits quand rien ne se passe, et que paie le serveur à la place ?",
  },

  // (e) drop and resume.
  "lab.e.title": { en: "(e) A dropped connection, and the resume", fr: "(e) Une connexion coupée, et la reprise" },
  "lab.e.goal": {
    en: "Cut the connections of one transport abruptly and check that its clients reconnect and resume where they stopped, without losing an event.",
    fr: "Couper brutalement les connexions d'un transport et vérifier que ses clients se reconnectent et reprennent là où ils s'étaient arrêtés, sans perdre un événement.",
  },
  "lab.e.setting": {
    en: "Feed rate 5 events/s; then drop every WebSocket connection (then SSE, then long polling).",
    fr: "Débit du flux 5 événements/s ; puis couper toutes les connexions WebSocket (puis SSE, puis long polling).",
  },
  "lab.e.apply_ws": { en: "Apply: drop WebSocket", fr: "Appliquer : couper WebSocket" },
  "lab.e.apply_sse": { en: "Apply: drop SSE", fr: "Appliquer : couper SSE" },
  "lab.e.apply_longpoll": { en: "Apply: drop long polling", fr: "Appliquer : couper le long polling" },
  "lab.e.observe": {
    en: "The row's state turns to <em>reconnecting</em>, then reads <em>reconnected ×1 · resumed after seq N · missed 0</em>. The client gave the server the last seq it saw (<code>/ws?since=N</code>, the <code>Last-Event-ID</code> header EventSource sends by itself, or <code>since=N</code> on the next long poll) and the server replayed the rest from its buffer. The WebSocket closed with code 1006: no close frame, the disconnection phase never took place.",
    fr: "L'état de la ligne passe à <em>reconnexion</em>, puis affiche <em>reconnecté ×1 · reprise après seq N · manqués : 0</em>. Le client a donné au serveur le dernier seq vu (<code>/ws?since=N</code>, l'en-tête <code>Last-Event-ID</code> qu'EventSource envoie tout seul, ou <code>since=N</code> au long polling suivant) et le serveur a rejoué la suite depuis son tampon. La WebSocket s'est fermée avec le code 1006 : pas de trame close, la phase de déconnexion n'a jamais eu lieu.",
  },
  "lab.e.question": {
    en: "Which mechanism lets each transport resume without a gap? The server keeps its last 1024 events (by default): at 50 events/s, how long may a client stay away before it misses some, and how does pushlab tell it?",
    fr: "Quel mécanisme permet à chaque transport de reprendre sans trou ? Le serveur garde ses 1024 derniers événements (par défaut) : à 50 événements/s, combien de temps un client peut-il rester absent avant d'en manquer, et comment pushlab le lui signale-t-il ?",
  },

  // (f) subprotocols and Origin.
  "lab.f.title": { en: "(f) Subprotocols, and a refused Origin", fr: "(f) Sous-protocoles, et une Origin refusée" },
  "lab.f.goal": {
    en: "Watch a client and a server agree on a subprotocol during the handshake, and the server refuse a handshake from a foreign Origin (the slides' protection against Cross-Site Request Forgery).",
    fr: "Voir un client et un serveur s'accorder sur un sous-protocole pendant la poignée de main, et le serveur refuser une poignée de main venue d'une Origin étrangère (la protection contre le Cross-Site Request Forgery des diapositives).",
  },
  "lab.f.setting": {
    en: "Nothing to set on the server: open the protocol inspector, section 5 (experiments with /ws/echo).",
    fr: "Rien à régler sur le serveur : ouvrez l'inspecteur de protocole, section 5 (expériences avec /ws/echo).",
  },
  "lab.f.link": { en: "Open the protocol inspector, section 5", fr: "Ouvrir l'inspecteur de protocole, section 5" },
  "lab.f.observe": {
    en: "Offer “chat, superchat”: the 101 answer names <code>chat</code> in <code>Sec-WebSocket-Protocol</code>, and <code>socket.protocol</code> says so. Offer only “foo”: the server answers 400 instead of 101, and the browser reports close code 1006. Then run the <code>curl</code> command shown under “And Origin?” with a foreign <code>Origin</code>: <code>403 Forbidden</code>.",
    fr: "Proposez « chat, superchat » : la réponse 101 nomme <code>chat</code> dans <code>Sec-WebSocket-Protocol</code>, et <code>socket.protocol</code> l'indique. Proposez seulement « foo » : le serveur répond 400 au lieu de 101, et le navigateur annonce le code de fermeture 1006. Lancez ensuite la commande <code>curl</code> affichée sous « Et Origin ? » avec une <code>Origin</code> étrangère : <code>403 Forbidden</code>.",
  },
  "lab.f.question": {
    en: "Why can a page not choose its own Origin header? Which attack from the slides does checking it prevent, and why is it not an authentication?",
    fr: "Pourquoi une page ne peut-elle pas choisir son propre en-tête Origin ? Quelle attaque vue dans les diapositives sa vérification empêche-t-elle, et pourquoi n'est-ce pas une authentification ?",
  },

  // (g) many tabs, one browser: the six HTTP/1.1 connections per server.
  "lab.g.title": { en: "(g) Many tabs, one browser: six connections per server", fr: "(g) Plusieurs onglets, un navigateur : six connexions par serveur" },
  "lab.g.goal": {
    en: "See the limit every browser puts on HTTP/1.1: at most 6 connections to one server, shared by all its tabs; why it hurts SSE and long polling, which hold a connection for good, and why WebSocket does not suffer it.",
    fr: "Voir la limite que tout navigateur impose à HTTP/1.1 : au plus 6 connexions vers un même serveur, partagées par tous ses onglets ; pourquoi elle gêne SSE et le long polling, qui gardent une connexion en permanence, et pourquoi WebSocket n'en souffre pas.",
  },
  "lab.g.setting": {
    en: "Nothing to set on the server. Open the dashboard in four more tabs of this browser. Then let this page open 6 connections of its own for 5 s, with the buttons below (they ignore pushlab's coordination between tabs), and time a fetch('/api/time') meanwhile.",
    fr: "Rien à régler sur le serveur. Ouvrez le tableau de bord dans quatre autres onglets de ce navigateur. Puis laissez cette page ouvrir 6 connexions à elle pendant 5 s, avec les boutons ci-dessous (ils ignorent la coordination de pushlab entre onglets), et chronométrer un fetch('/api/time') pendant ce temps.",
  },
  "lab.g.probe_sse": { en: "Open 6 SSE streams for 5 s", fr: "Ouvrir 6 flux SSE pendant 5 s" },
  "lab.g.probe_ws": { en: "Open 6 WebSockets for 5 s", fr: "Ouvrir 6 WebSockets pendant 5 s" },
  "lab.g.running": { en: "{n} connections open for {seconds} s; fetch('/api/time') sent…", fr: "{n} connexions ouvertes pendant {seconds} s ; fetch('/api/time') envoyé…" },
  "lab.g.waited_sse": {
    en: "{opened} of the {n} SSE streams opened, and fetch('/api/time') got no answer while they were open: it waited inside the browser for a free connection. It was answered {ms} after it was sent, {close_ms} after the streams closed.",
    fr: "{opened} des {n} flux SSE se sont ouverts, et fetch('/api/time') n'a reçu aucune réponse tant qu'ils étaient ouverts : il attendait dans le navigateur une connexion libre. Réponse {ms} après l'envoi, {close_ms} après la fermeture des flux.",
  },
  "lab.g.answered_sse": {
    en: "{opened} of the {n} SSE streams opened, and fetch('/api/time') was still answered in {ms}: this browser had connections left (another protocol than HTTP/1.1, or a higher limit).",
    fr: "{opened} des {n} flux SSE se sont ouverts, et fetch('/api/time') a quand même eu sa réponse en {ms} : ce navigateur avait encore des connexions (un autre protocole que HTTP/1.1, ou une limite plus haute).",
  },
  "lab.g.answered_ws": {
    en: "{opened} of the {n} WebSockets opened, and fetch('/api/time') was answered in {ms} while they stayed open: WebSockets are not counted among the 6 HTTP/1.1 connections.",
    fr: "{opened} des {n} WebSockets se sont ouvertes, et fetch('/api/time') a eu sa réponse en {ms} pendant qu'elles restaient ouvertes : les WebSockets ne comptent pas parmi les 6 connexions HTTP/1.1.",
  },
  "lab.g.waited_ws": {
    en: "{opened} of the {n} WebSockets opened, yet fetch('/api/time') got no answer while they were open ({ms} in all): something else holds this browser's connections (another tab's streams?).",
    fr: "{opened} des {n} WebSockets se sont ouvertes, mais fetch('/api/time') n'a pas eu de réponse tant qu'elles étaient ouvertes ({ms} en tout) : autre chose tient les connexions de ce navigateur (les flux d'un autre onglet ?).",
  },
  "lab.g.failed": { en: "The probe failed: {why}", fr: "La sonde a échoué : {why}" },
  "lab.g.observe": {
    en: "On the dashboards, one tab only follows SSE and long polling for the whole browser; in the others, those panels say they are paused, and why. Close that tab: another takes over within seconds, <em>missed 0</em>. With 6 SSE streams, <code>/api/time</code> gets no answer until they close: the request waits in the browser (DevTools, Network: <em>Queueing</em>, <em>Stalled</em>), not on the network nor at the server, and every tab of the browser waits with it; the short-polling rows say their requests waited and leave those latencies out. With 6 WebSockets it answers in a few milliseconds.",
    fr: "Sur les tableaux de bord, un seul onglet suit SSE et le long polling pour tout le navigateur ; dans les autres, ces panneaux indiquent qu'ils sont en pause, et pourquoi. Fermez cet onglet : un autre prend le relais en quelques secondes, <em>manqués : 0</em>. Avec 6 flux SSE, <code>/api/time</code> n'a pas de réponse avant leur fermeture : la requête attend dans le navigateur (DevTools, Réseau : <em>Queueing</em>, <em>Stalled</em>), ni sur le réseau ni au serveur, et tous les onglets du navigateur attendent avec elle ; les lignes du polling court signalent que leurs requêtes ont attendu et ne comptent pas ces latences. Avec 6 WebSockets, la réponse vient en quelques millisecondes.",
  },
  "lab.g.question": {
    en: "Why does this limit hurt SSE and long polling but hardly short polling? With each dashboard tab holding its own SSE stream, stats stream and long poll, how many tabs would stall the whole browser? Why is a WebSocket not counted, and what would HTTP/2 change?",
    fr: "Pourquoi cette limite gêne-t-elle SSE et le long polling, mais à peine le polling court ? Si chaque onglet du tableau de bord gardait son propre flux SSE, son flux de statistiques et son long polling, combien d'onglets bloqueraient tout le navigateur ? Pourquoi une WebSocket n'est-elle pas comptée, et que changerait HTTP/2 ?",
  },

  // (h) two servers, one feed.
  "lab.h.title": { en: "(h) Two servers, one feed: RabbitMQ between them", fr: "(h) Deux serveurs, un flux : RabbitMQ entre les deux" },
  "lab.h.goal": {
    en: "See the architecture the slides end on: web servers push to browsers over WebSocket while an AMQP broker (RabbitMQ) carries the events between them. Then stop a server, and lose no event.",
    fr: "Voir l'architecture sur laquelle finissent les diapositives : des serveurs web poussent vers les navigateurs en WebSocket pendant qu'un broker AMQP (RabbitMQ) transporte les événements entre eux. Puis arrêter un serveur sans perdre un événement.",
  },
  "lab.h.setting": {
    en: "The instructor runs scripts/class-demo: a RabbitMQ and two pushlab servers on ports 8080 and 8081, both with --broker on the same stream and each naming the other with --peer-url. Half the room opens the dashboard of one server, half the other's (links below). Then the instructor stops the server on 8080 (Ctrl-C in its terminal).",
    fr: "L'enseignant lance scripts/class-demo : un RabbitMQ et deux serveurs pushlab sur les ports 8080 et 8081, tous deux avec --broker sur le même stream et chacun nommant l'autre par --peer-url. La moitié de la salle ouvre le tableau de bord d'un serveur, l'autre moitié celui de l'autre (liens ci-dessous). Puis l'enseignant arrête le serveur du port 8080 (Ctrl-C dans son terminal).",
  },
  "lab.h.servers": { en: "The servers of this page's cluster:", fr: "Les serveurs de la grappe de cette page :" },
  "lab.h.alone": {
    en: "This server names no other (no --peer-url): start the demo with scripts/class-demo, or give each server --broker and --peer-url.",
    fr: "Ce serveur n'en nomme aucun autre (pas de --peer-url) : lancez la démonstration avec scripts/class-demo, ou donnez à chaque serveur --broker et --peer-url.",
  },
  "lab.h.observe": {
    en: "Both dashboards show the <strong>same seqs</strong> at the same times: RabbitMQ's stream numbers each event once for every server (seq = its offset in the stream + 1), and one server only runs the generator (the line under the dashboard's title says which). A chat posted on one server appears on the other within milliseconds. The <em>Broker hop</em> card shows what the detour costs: publish, then read back from RabbitMQ. When the server on 8080 stops, its dashboards read <em>… stopped answering: now following http://…:8081</em>, and each panel <em>reconnected ×1 · resumed after seq N · missed 0</em> (except the classic page: it is a document of the stopped server). Stop RabbitMQ instead (<code>scripts/rabbitmq stop</code>): both servers say <em>broker unreachable</em>, chats are refused (503), connections stay open, and the feed goes on from where it was once RabbitMQ is back.",
    fr: "Les deux tableaux de bord montrent les <strong>mêmes seq</strong> aux mêmes instants : le stream de RabbitMQ numérote chaque événement une seule fois pour tous les serveurs (seq = sa position dans le stream + 1), et un seul serveur fait tourner le générateur (la ligne sous le titre du tableau de bord dit lequel). Un chat posté sur un serveur apparaît sur l'autre en quelques millisecondes. La carte <em>Passage par le broker</em> montre ce que coûte le détour : publier, puis relire depuis RabbitMQ. Quand le serveur du port 8080 s'arrête, ses tableaux de bord affichent <em>… ne répond plus : suivi désormais par http://…:8081</em>, et chaque panneau <em>reconnecté ×1 · reprise après seq N · manqués : 0</em> (sauf la page classique : c'est un document du serveur arrêté). Arrêtez plutôt RabbitMQ (<code>scripts/rabbitmq stop</code>) : les deux serveurs annoncent <em>broker injoignable</em>, les chats sont refusés (503), les connexions restent ouvertes, et le flux reprend là où il en était au retour de RabbitMQ.",
  },
  "lab.h.question": {
    en: "Why can a client resume on the other server with the same <code>since</code>, and what would go wrong if each server numbered its own events? Compare the broker hop with a WebSocket's delivery delay: what does the broker cost, and what does it buy?",
    fr: "Pourquoi un client peut-il reprendre sur l'autre serveur avec le même <code>since</code>, et que se passerait-il si chaque serveur numérotait ses propres événements ? Comparez le passage par le broker au délai de livraison d'une WebSocket : que coûte le broker, et qu'apporte-t-il ?",
  },
};
