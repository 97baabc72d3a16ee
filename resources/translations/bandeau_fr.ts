<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr" sourcelanguage="en">
<context>
    <name>AccountControl</name>
    <message>
        <source>Not signed in: %1</source>
        <translation>Non connecté : %1</translation>
    </message>
    <message>
        <source>Not signed in.</source>
        <translation>Non connecté.</translation>
    </message>
    <message>
        <source>Sign out of %1?</source>
        <translation>Se déconnecter de %1 ?</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) not sent yet stay on this computer; they are sent at your next sign-in.</source>
        <translation>
            <numerusform>%n événement pas encore envoyé reste sur cet ordinateur ; il partira à votre prochaine connexion.</numerusform>
            <numerusform>%n événements pas encore envoyés restent sur cet ordinateur ; ils partiront à votre prochaine connexion.</numerusform>
        </translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Se déconnecter</translation>
    </message>
</context>
<context>
    <name>AgentTable</name>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>For</source>
        <translation>Depuis</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Activité</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Link</source>
        <translation>Liaison</translation>
    </message>
    <message>
        <source>Production</source>
        <translation>Production</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Off production</source>
        <translation>Hors production</translation>
    </message>
    <message>
        <source>Production share</source>
        <translation>Part production</translation>
    </message>
</context>
<context>
    <name>Bar</name>
    <message>
        <source>Sign in again</source>
        <translation>Reconnexion</translation>
    </message>
    <message>
        <source>Your events stay on this computer until you sign in again (%1).</source>
        <translation>Vos événements restent sur cet ordinateur jusqu’à votre reconnexion (%1).</translation>
    </message>
    <message>
        <source>Journal repaired</source>
        <translation>Journal réparé</translation>
    </message>
    <message>
        <source>Your journal file was damaged (%1). It was kept aside as %2, %3 events were recovered from it, and a new journal was started. Please tell IT.</source>
        <translation>Votre fichier journal était endommagé (%1). Il a été mis de côté sous %2, %3 événements en ont été récupérés et un nouveau journal a été commencé. Merci de prévenir le support informatique.</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Réglages</translation>
    </message>
    <message>
        <source>Hide the bar</source>
        <translation>Masquer la barre</translation>
    </message>
    <message>
        <source>Show the bar</source>
        <translation>Afficher la barre</translation>
    </message>
    <message>
        <source>Plateau panel</source>
        <translation>Panneau du plateau</translation>
    </message>
    <message>
        <source>Export my month…</source>
        <translation>Exporter mon mois…</translation>
    </message>
    <message>
        <source>Sign out (%1)</source>
        <translation>Se déconnecter (%1)</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>Se connecter…</translation>
    </message>
    <message>
        <source>Export my month</source>
        <translation>Exporter mon mois</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>⚠ Refused</source>
        <translation>⚠ Refusé</translation>
    </message>
    <message>
        <source>Sign-out</source>
        <translation>Déconnexion</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>%1/%2 in prod.</source>
        <translation>%1/%2 en prod.</translation>
    </message>
    <message>
        <source>%1 of the %2 colleagues on shift on %3 are in production right now</source>
        <translation>%1 des %2 collègues en service sur %3 sont en production en ce moment</translation>
    </message>
    <message>
        <source>%1 with a note…</source>
        <translation>%1 avec une note…</translation>
    </message>
    <message>
        <source>The server cannot be reached: your correction is kept on this computer, counted already, and will be sent by itself when the server is back.</source>
        <translation>Le serveur est injoignable : votre correction est gardée sur cet ordinateur, déjà comptée, et sera envoyée d’elle-même quand le serveur sera de retour.</translation>
    </message>
    <message>
        <source>A correction made while offline was refused by the server: %1</source>
        <translation>Une correction faite hors ligne a été refusée par le serveur : %1</translation>
    </message>
    <message>
        <source>Not recorded</source>
        <translation>Non enregistré</translation>
    </message>
    <message>
        <source>Not recorded!</source>
        <translation>Non enregistré&#x202f;!</translation>
    </message>
    <message>
        <source>Your click was NOT recorded: the journal cannot be written (%1). The bar still shows your previous status. Tell your team lead or IT.</source>
        <translation>Votre clic n’a PAS été enregistré : le journal ne peut pas être écrit (%1). La barre affiche toujours votre statut précédent. Prévenez votre responsable ou le support informatique.</translation>
    </message>
    <message>
        <source>Quit Bandeau</source>
        <translation>Quitter Bandeau</translation>
    </message>
    <message>
        <source>All your data from the store is in %1.</source>
        <translation>Toutes vos données du serveur sont dans %1.</translation>
    </message>
    <message>
        <source>Download all my data…</source>
        <translation>Télécharger toutes mes données…</translation>
    </message>
    <message>
        <source>Change my password…</source>
        <translation>Changer mon mot de passe…</translation>
    </message>
    <message>
        <source>Download all my data</source>
        <translation>Télécharger toutes mes données</translation>
    </message>
    <message>
        <source>JSON files (*.json)</source>
        <translation>Fichiers JSON (*.json)</translation>
    </message>
    <message>
        <source>Is your shift over?</source>
        <translation>Votre service est-il terminé ?</translation>
    </message>
    <message>
        <source>Choose “End my shift” if you are leaving. Choose “Keep it open” if you only restart the computer.</source>
        <translation>Choisissez « Terminer mon service » si vous partez. Choisissez « Le garder ouvert » si vous redémarrez seulement l’ordinateur.</translation>
    </message>
    <message>
        <source>End my shift</source>
        <translation>Terminer mon service</translation>
    </message>
    <message>
        <source>Keep it open</source>
        <translation>Le garder ouvert</translation>
    </message>
    <message>
        <source>Production</source>
        <translation>Production</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Off production</source>
        <translation>Hors production</translation>
    </message>
    <message>
        <source>On the phones: available, in a call, wrap-up</source>
        <translation>Au téléphone : disponible, en appel, post-appel</translation>
    </message>
    <message>
        <source>A break</source>
        <translation>Une pause</translation>
    </message>
    <message>
        <source>Off-phone work: training, debriefing, coaching, meeting, admin</source>
        <translation>Travail hors téléphone : formation, débrief, coaching, réunion, administratif</translation>
    </message>
    <message>
        <source>Shortcut: %1 — right-click to add a note</source>
        <translation>Raccourci : %1 — clic droit pour ajouter une note</translation>
    </message>
    <message>
        <source>Drag to move the bar</source>
        <translation>Glisser pour déplacer la barre</translation>
    </message>
    <message>
        <source>Move the bar</source>
        <translation>Déplacer la barre</translation>
    </message>
    <message>
        <source>Activity you are working on</source>
        <translation>Activité sur laquelle vous travaillez</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Activité</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>Menu</translation>
    </message>
    <message>
        <source>My day</source>
        <translation>Ma journée</translation>
    </message>
    <message>
        <source>End of shift</source>
        <translation>Fin de service</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Réglages…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quitter</translation>
    </message>
    <message>
        <source>● Local only</source>
        <translation>● Local uniquement</translation>
    </message>
    <message>
        <source>No central server is configured: your events are kept on this computer.</source>
        <translation>Aucun serveur central n’est configuré : vos événements sont conservés sur cet ordinateur.</translation>
    </message>
    <message>
        <source>⚠ Signed out</source>
        <translation>⚠ Déconnecté</translation>
    </message>
    <message>
        <source>The server no longer accepts this sign-in: sign in again. Your events are kept on this computer until then.</source>
        <translation>Le serveur n’accepte plus cette connexion : reconnectez-vous. Vos événements restent sur cet ordinateur d’ici là.</translation>
    </message>
    <message>
        <source>The server refuses what this bar sends (%1). Your events are kept on this computer; tell IT.</source>
        <translation>Le serveur refuse ce que cette barre envoie (%1). Vos événements restent sur cet ordinateur ; prévenez le support informatique.</translation>
    </message>
    <message numerus="yes">
        <source>⚠ %n problem(s)</source>
        <translation>
            <numerusform>⚠ %n problème</numerusform>
            <numerusform>⚠ %n problèmes</numerusform>
        </translation>
    </message>
    <message>
        <source>Some events were refused by the server; they are kept. See `bandeau journal problems`.</source>
        <translation>Le serveur a refusé des événements ; ils sont conservés. Voir « bandeau journal problems ».</translation>
    </message>
    <message>
        <source>○ Offline since %1</source>
        <translation>○ Hors ligne %1</translation>
    </message>
    <message>
        <source>Offline since %1.</source>
        <translation>Hors ligne depuis %1.</translation>
    </message>
    <message numerus="yes">
        <source>The server cannot be reached; %n event(s) wait on this computer and will be sent by themselves.</source>
        <translation>
            <numerusform>Le serveur est injoignable ; %n événement attend sur cet ordinateur et partira de lui-même.</numerusform>
            <numerusform>Le serveur est injoignable ; %n événements attendent sur cet ordinateur et partiront d’eux-mêmes.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>⏳ %n waiting</source>
        <translation>
            <numerusform>⏳ %n en attente</numerusform>
            <numerusform>⏳ %n en attente</numerusform>
        </translation>
    </message>
    <message>
        <source>✓ Synced</source>
        <translation>✓ Synchronisé</translation>
    </message>
    <message>
        <source>Every event is on the server.</source>
        <translation>Tous les événements sont sur le serveur.</translation>
    </message>
    <message>
        <source>Opening the journal…</source>
        <translation>Ouverture du journal…</translation>
    </message>
    <message>
        <source>Shift ended</source>
        <translation>Service terminé</translation>
    </message>
    <message>
        <source>Unclassified</source>
        <translation>Non classé</translation>
    </message>
    <message>
        <source>Today: %1</source>
        <translation>Aujourd’hui : %1</translation>
    </message>
    <message>
        <source>The journal cannot be opened, so no click could be recorded: %1</source>
        <translation>Le journal ne peut pas être ouvert, aucun clic ne pourrait être enregistré : %1</translation>
    </message>
</context>
<context>
    <name>CorrectionDialog</name>
    <message>
        <source>Correct my time</source>
        <translation>Corriger mon temps</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>Corriger</translation>
    </message>
    <message>
        <source>Not working (shift had ended)</source>
        <translation>Hors service (le service était fini)</translation>
    </message>
    <message>
        <source>Why (required), e.g. forgot to click Pause</source>
        <translation>Pourquoi (obligatoire), par ex. oubli de cliquer Pause</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Du</translation>
    </message>
    <message>
        <source>To</source>
        <translation>À</translation>
    </message>
    <message>
        <source>It was</source>
        <translation>C’était</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motif</translation>
    </message>
    <message>
        <source>A correction always says why.</source>
        <translation>Une correction dit toujours pourquoi.</translation>
    </message>
    <message>
        <source>The end must come after the start.</source>
        <translation>La fin doit venir après le début.</translation>
    </message>
</context>
<context>
    <name>DailyChart</name>
    <message>
        <source>Hours per day and key</source>
        <translation>Heures par jour et par touche</translation>
    </message>
    <message>
        <source>No time recorded over these days.</source>
        <translation>Aucun temps enregistré sur ces jours.</translation>
    </message>
    <message numerus="yes">
        <source>%n event(s) arrived late, counted</source>
        <translation>
            <numerusform>%n événement arrivé en retard, compté</numerusform>
            <numerusform>%n événements arrivés en retard, comptés</numerusform>
        </translation>
    </message>
    <message>
        <source>events that arrived late (counted)</source>
        <translation>événements arrivés en retard (comptés)</translation>
    </message>
</context>
<context>
    <name>DayDialog</name>
    <message>
        <source>My day</source>
        <translation>Ma journée</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Heure</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Événement</translation>
    </message>
    <message>
        <source>Activity</source>
        <translation>Activité</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Correct…</source>
        <translation>Corriger…</translation>
    </message>
    <message>
        <source>Fix a forgotten click, with a reason: the correction is kept and visible</source>
        <translation>Rattraper un clic oublié, avec un motif : la correction est gardée et visible</translation>
    </message>
    <message>
        <source>Unclassified</source>
        <translation>Non classé</translation>
    </message>
    <message>
        <source>Presence</source>
        <translation>Présence</translation>
    </message>
    <message>
        <source>not worked</source>
        <translation>non travaillé</translation>
    </message>
    <message>
        <source>Corrected %1–%2 → %3 by %4: “%5”</source>
        <translation>Corrigé %1–%2 → %3 par %4 : « %5 »</translation>
    </message>
    <message>
        <source>(no activity)</source>
        <translation>(sans activité)</translation>
    </message>
    <message>
        <source>Shift start</source>
        <translation>Début de service</translation>
    </message>
    <message>
        <source>End of shift</source>
        <translation>Fin de service</translation>
    </message>
    <message>
        <source>Activity change</source>
        <translation>Changement d’activité</translation>
    </message>
    <message>
        <source>Correction</source>
        <translation>Correction</translation>
    </message>
    <message>
        <source>PC clock changed</source>
        <translation>Horloge du PC modifiée</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>One line per agent</source>
        <translation>Une ligne par agent</translation>
    </message>
    <message>
        <source>One line per activity</source>
        <translation>Une ligne par activité</translation>
    </message>
    <message>
        <source>One line per day</source>
        <translation>Une ligne par jour</translation>
    </message>
    <message>
        <source>Agent × day × activity</source>
        <translation>Agent × jour × activité</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Du</translation>
    </message>
    <message>
        <source>To (included)</source>
        <translation>Au (inclus)</translation>
    </message>
    <message>
        <source>Lines</source>
        <translation>Lignes</translation>
    </message>
</context>
<context>
    <name>NoteDialog</name>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Note for “%1” (optional, %2 characters at most):</source>
        <translation>Note pour « %1 » (facultative, %2 caractères au plus) :</translation>
    </message>
    <message>
        <source>Your team lead sees this note, with the time it goes with.</source>
        <translation>Votre responsable voit cette note, avec son heure.</translation>
    </message>
</context>
<context>
    <name>Panel</name>
    <message>
        <source>Plateau panel</source>
        <translation>Panneau du plateau</translation>
    </message>
    <message>
        <source>Search a name…</source>
        <translation>Chercher un nom…</translation>
    </message>
    <message>
        <source>Search a name</source>
        <translation>Chercher un nom</translation>
    </message>
    <message>
        <source>Activity filter</source>
        <translation>Filtre d’activité</translation>
    </message>
    <message>
        <source>Status filter</source>
        <translation>Filtre de statut</translation>
    </message>
    <message>
        <source>Plateau filter</source>
        <translation>Filtre de plateau</translation>
    </message>
    <message>
        <source>Alert when a pause goes over the threshold</source>
        <translation>Alerter quand une pause dépasse le seuil</translation>
    </message>
    <message>
        <source>Wallboard</source>
        <translation>Mur d’écran</translation>
    </message>
    <message>
        <source>Full screen, large type, for a TV (F11)</source>
        <translation>Plein écran, grands caractères, pour un téléviseur (F11)</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exporter…</translation>
    </message>
    <message>
        <source>The plateau&apos;s indicators over a period, as CSV</source>
        <translation>Les indicateurs du plateau sur une période, en CSV</translation>
    </message>
    <message>
        <source>Agents of the plateau</source>
        <translation>Agents du plateau</translation>
    </message>
    <message>
        <source>Agents</source>
        <translation>Agents</translation>
    </message>
    <message>
        <source>Last 14 days</source>
        <translation>14 derniers jours</translation>
    </message>
    <message>
        <source>● Live</source>
        <translation>● En direct</translation>
    </message>
    <message>
        <source>⚠ Signed out</source>
        <translation>⚠ Déconnecté</translation>
    </message>
    <message>
        <source>The server no longer accepts this sign-in: sign in again.</source>
        <translation>Le serveur n’accepte plus cette connexion : reconnectez-vous.</translation>
    </message>
    <message>
        <source>○ Connecting…</source>
        <translation>○ Connexion…</translation>
    </message>
    <message>
        <source>○ Reconnecting (since %1)…</source>
        <translation>○ Reconnexion (depuis %1)…</translation>
    </message>
    <message>
        <source>The server cannot be reached: the panel reconnects by itself.</source>
        <translation>Le serveur ne répond pas : le panneau se reconnecte tout seul.</translation>
    </message>
    <message>
        <source>The panel updates by itself; no need to refresh it.</source>
        <translation>Le panneau se met à jour tout seul ; inutile de le rafraîchir.</translation>
    </message>
    <message>
        <source>In production</source>
        <translation>En production</translation>
    </message>
    <message>
        <source>On pause</source>
        <translation>En pause</translation>
    </message>
    <message>
        <source>Off production</source>
        <translation>Hors production</translation>
    </message>
    <message>
        <source>Unclassified</source>
        <translation>Non classé</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Hors ligne</translation>
    </message>
    <message>
        <source>Production</source>
        <translation>Production</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Shift ended</source>
        <translation>Service terminé</translation>
    </message>
    <message>
        <source>Not started</source>
        <translation>Pas commencé</translation>
    </message>
    <message>
        <source>online</source>
        <translation>en ligne</translation>
    </message>
    <message>
        <source>no news for 1 min</source>
        <translation>sans nouvelles depuis 1 min</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>hors ligne</translation>
    </message>
    <message>
        <source>Pause over the plateau&apos;s threshold</source>
        <translation>Pause au-delà du seuil du plateau</translation>
    </message>
    <message>
        <source>Last sign of life: %1</source>
        <translation>Dernier signe de vie : %1</translation>
    </message>
    <message>
        <source>Enter or double-click: the day</source>
        <translation>Entrée ou double-clic : la journée</translation>
    </message>
    <message>
        <source>All activities</source>
        <translation>Toutes les activités</translation>
    </message>
    <message>
        <source>All statuses</source>
        <translation>Tous les statuts</translation>
    </message>
    <message>
        <source>All plateaux</source>
        <translation>Tous les plateaux</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Chargement…</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>L’export a échoué : %1</translation>
    </message>
    <message>
        <source>Exported to %1</source>
        <translation>Exporté dans %1</translation>
    </message>
    <message>
        <source>Day of %1</source>
        <translation>Journée de %1</translation>
    </message>
</context>
<context>
    <name>PasswordDialog</name>
    <message>
        <source>Change my password</source>
        <translation>Changer mon mot de passe</translation>
    </message>
    <message>
        <source>Your admin gave you this password for your first sign-in: choose your own to start recording with the store.</source>
        <translation>Ce mot de passe vous a été remis pour votre première connexion : choisissez le vôtre pour commencer à enregistrer avec le serveur.</translation>
    </message>
    <message>
        <source>Choose a new password for your sign-in.</source>
        <translation>Choisissez un nouveau mot de passe pour vous connecter.</translation>
    </message>
    <message>
        <source>Current password</source>
        <translation>Mot de passe actuel</translation>
    </message>
    <message>
        <source>New password</source>
        <translation>Nouveau mot de passe</translation>
    </message>
    <message>
        <source>New password again</source>
        <translation>Nouveau mot de passe (encore)</translation>
    </message>
    <message>
        <source>At least %1 characters.</source>
        <translation>Au moins %1 caractères.</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>Changer</translation>
    </message>
    <message>
        <source>The two new passwords differ.</source>
        <translation>Les deux nouveaux mots de passe diffèrent.</translation>
    </message>
    <message>
        <source>Changing…</source>
        <translation>Changement…</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Réglages</translation>
    </message>
    <message>
        <source>Automatic (system)</source>
        <translation>Automatique (système)</translation>
    </message>
    <message>
        <source>Keep the bar above other windows</source>
        <translation>Garder la barre au-dessus des autres fenêtres</translation>
    </message>
    <message>
        <source>Show today&apos;s total under each key</source>
        <translation>Afficher le total du jour sous chaque touche</translation>
    </message>
    <message>
        <source>No (floating bar)</source>
        <translation>Non (barre flottante)</translation>
    </message>
    <message>
        <source>At the top of the screen</source>
        <translation>En haut de l’écran</translation>
    </message>
    <message>
        <source>At the bottom of the screen</source>
        <translation>En bas de l’écran</translation>
    </message>
    <message>
        <source>Docked, the bar keeps its strip of the screen: maximised windows stop at it.</source>
        <translation>Ancrée, la barre garde sa bande de l’écran : les fenêtres agrandies s’arrêtent à elle.</translation>
    </message>
    <message>
        <source>Start Bandeau when I log in</source>
        <translation>Lancer Bandeau à l’ouverture de ma session</translation>
    </message>
    <message>
        <source>Saved in %1</source>
        <translation>Enregistré dans %1</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>Dock the bar</source>
        <translation>Ancrer la barre</translation>
    </message>
    <message>
        <source>Could not save the settings: %1</source>
        <translation>Impossible d’enregistrer les réglages : %1</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <source>Sign in</source>
        <translation>Se connecter</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Adresse du serveur</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>Identifiant</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Mot de passe</translation>
    </message>
    <message numerus="yes">
        <source>Also send my %n earlier event(s)</source>
        <translation>
            <numerusform>Envoyer aussi mon événement d’avant</numerusform>
            <numerusform>Envoyer aussi mes %n événements d’avant</numerusform>
        </translation>
    </message>
    <message>
        <source>Recorded on this computer before you signed in. Unticked, they stay on this computer only.</source>
        <translation>Enregistrés sur cet ordinateur avant votre connexion. Décoché : ils restent sur cet ordinateur seulement.</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Serveur</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Keep for this session</source>
        <translation>Garder pour cette session</translation>
    </message>
    <message>
        <source>This computer has no keyring to keep your sign-in safely (%1). Bandeau can keep it in memory until the bar closes; you will then sign in again. It is never written to disk.</source>
        <translation>Cet ordinateur n’a pas de trousseau pour garder votre connexion en sécurité (%1). Bandeau peut la garder en mémoire jusqu’à la fermeture du bandeau ; vous vous reconnecterez ensuite. Elle n’est jamais écrite sur le disque.</translation>
    </message>
</context>
<context>
    <name>TimelineStrip</name>
    <message>
        <source>Timeline of the day</source>
        <translation>Frise de la journée</translation>
    </message>
    <message>
        <source>Unclassified</source>
        <translation>Non classé</translation>
    </message>
    <message>
        <source>Corrected: %1</source>
        <translation>Corrigé : %1</translation>
    </message>
</context>
<context>
    <name>WelcomeDialog</name>
    <message>
        <source>Welcome to Bandeau</source>
        <translation>Bienvenue dans Bandeau</translation>
    </message>
    <message numerus="yes">
        <source>Also send my %n earlier event(s)</source>
        <translation>
            <numerusform>Envoyer aussi mon événement d’avant</numerusform>
            <numerusform>Envoyer aussi mes %n événements d’avant</numerusform>
        </translation>
    </message>
    <message>
        <source>Three keys — Production, Pause, Off production — and your time counts itself. Sign in with the login your team lead gave you, or start now and sign in later from the bar&apos;s menu.</source>
        <translation>Trois touches — Production, Pause, Hors production — et votre temps se compte tout seul. Connectez-vous avec l’identifiant donné par votre responsable, ou commencez tout de suite et connectez-vous plus tard depuis le menu de la barre.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>Automatic (system)</source>
        <translation>Automatique (système)</translation>
    </message>
    <message>
        <source>Start Bandeau when I log in</source>
        <translation>Lancer Bandeau à l’ouverture de ma session</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>Plus tard</translation>
    </message>
</context>
<context>
    <name>Wording</name>
    <message>
        <source>no answer in time.</source>
        <translation>pas de réponse à temps.</translation>
    </message>
    <message>
        <source>the secure connection failed. Is the address http:// rather than https://?</source>
        <translation>la connexion sécurisée a échoué. L’adresse serait-elle en http:// plutôt qu’en https:// ?</translation>
    </message>
    <message>
        <source>no computer has that name.</source>
        <translation>aucun ordinateur ne porte ce nom.</translation>
    </message>
    <message>
        <source>nothing answers at that address.</source>
        <translation>rien ne répond à cette adresse.</translation>
    </message>
    <message>
        <source>the connection failed.</source>
        <translation>la connexion a échoué.</translation>
    </message>
    <message>
        <source>the disk is full</source>
        <translation>le disque est plein</translation>
    </message>
    <message>
        <source>the journal file cannot be written (read-only or no permission)</source>
        <translation>le fichier du journal ne peut pas être écrit (lecture seule ou pas de droits)</translation>
    </message>
    <message>
        <source>another program holds the journal</source>
        <translation>un autre programme occupe le journal</translation>
    </message>
    <message>
        <source>the journal file is damaged</source>
        <translation>le fichier du journal est abîmé</translation>
    </message>
    <message>
        <source>the journal was written by a newer version of Bandeau: install the latest version (nothing was changed in the journal)</source>
        <translation>le journal a été écrit par une version plus récente de Bandeau : installez la dernière version (rien n’a été modifié dans le journal)</translation>
    </message>
    <message>
        <source>the journal failed: %1</source>
        <translation>le journal a échoué : %1</translation>
    </message>
    <message>
        <source>Start at login could not be changed: %1</source>
        <translation>Le lancement à l’ouverture de session n’a pas pu être changé : %1</translation>
    </message>
    <message>
        <source>The bar could not keep its strip of the screen: %1</source>
        <translation>La barre n’a pas pu garder sa bande de l’écran : %1</translation>
    </message>
    <message>
        <source>“%1” is not a server address (for example https://bandeau.example.fr).</source>
        <translation>« %1 » n’est pas une adresse de serveur (par exemple https://bandeau.example.fr).</translation>
    </message>
    <message>
        <source>Cannot reach %1: %2</source>
        <translation>Impossible de joindre %1 : %2</translation>
    </message>
    <message>
        <source>%1 is busy (error %2): try again in a moment.</source>
        <translation>%1 est occupé (erreur %2) : réessayez dans un instant.</translation>
    </message>
    <message>
        <source>Wrong login or password.</source>
        <translation>Identifiant ou mot de passe incorrect.</translation>
    </message>
    <message>
        <source>Too many failed attempts: try again in %1.</source>
        <translation>Trop d’essais manqués : réessayez dans %1.</translation>
    </message>
    <message>
        <source>The server refused (error %1).</source>
        <translation>Le serveur a refusé (erreur %1).</translation>
    </message>
    <message>
        <source>The answer of %1 is not understood: is it a Bandeau server?</source>
        <translation>La réponse de %1 n’est pas comprise : est-ce bien un serveur Bandeau ?</translation>
    </message>
    <message>
        <source>%1 has no activity on the server yet: ask an admin to add the plateau’s activities.</source>
        <translation>%1 n’a encore aucune activité sur le serveur : demandez à un administrateur d’ajouter les activités du plateau.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2.</source>
        <translation>Impossible d’écrire %1 : %2.</translation>
    </message>
    <message>
        <source>Signed out: sign in again.</source>
        <translation>Déconnecté : reconnectez-vous.</translation>
    </message>
    <message>
        <source>An agent corrects the last %1 days; ask your lead for older ones.</source>
        <translation>Un conseiller corrige ses %1 derniers jours ; pour plus ancien, demandez à votre responsable.</translation>
    </message>
    <message>
        <source>An agent corrects only their own time.</source>
        <translation>Un conseiller ne corrige que son propre temps.</translation>
    </message>
    <message>
        <source>A lead corrects the agents of their plateaux only.</source>
        <translation>Un responsable ne corrige que les conseillers de ses plateaux.</translation>
    </message>
    <message>
        <source>A correction is about the past: its end is still to come.</source>
        <translation>Une correction porte sur le passé : sa fin n’est pas encore arrivée.</translation>
    </message>
    <message>
        <source>No one is called “%1” on the server.</source>
        <translation>Personne ne s’appelle « %1 » sur le serveur.</translation>
    </message>
    <message>
        <source>Not allowed: %1</source>
        <translation>Non autorisé : %1</translation>
    </message>
    <message>
        <source>That is not your current password.</source>
        <translation>Ce n’est pas votre mot de passe actuel.</translation>
    </message>
    <message>
        <source>A password needs at least %1 characters.</source>
        <translation>Un mot de passe compte au moins %1 caractères.</translation>
    </message>
    <message>
        <source>Choose your own password first (menu: Change my password…).</source>
        <translation>Choisissez d’abord votre propre mot de passe (menu : Changer mon mot de passe…).</translation>
    </message>
    <message>
        <source>This sign-in belongs to another computer: sign in again here.</source>
        <translation>Cette connexion appartient à un autre ordinateur : reconnectez-vous ici.</translation>
    </message>
    <message>
        <source>This correction’s id is already another’s.</source>
        <translation>L’identifiant de cette correction est déjà celui d’une autre.</translation>
    </message>
    <message>
        <source>That day is older than the store keeps: it can no longer be changed.</source>
        <translation>Ce jour est plus ancien que ce que le serveur conserve : il ne peut plus être modifié.</translation>
    </message>
    <message>
        <source>This person is disabled on the server.</source>
        <translation>Cette personne est désactivée sur le serveur.</translation>
    </message>
    <message>
        <source>The store is unavailable for a moment: try again shortly.</source>
        <translation>Le serveur central est momentanément indisponible : réessayez bientôt.</translation>
    </message>
    <message>
        <source>The server refused: %1</source>
        <translation>Le serveur a refusé : %1</translation>
    </message>
    <message>
        <source>%1: unknown setting “%2” (ignored).</source>
        <translation>%1 : réglage inconnu « %2 » (ignoré).</translation>
    </message>
    <message>
        <source>%1: %2 = %3 is not valid (%4 expected); the default %5 is used.</source>
        <translation>%1 : %2 = %3 n’est pas valide (%4 attendu) ; la valeur par défaut %5 s’applique.</translation>
    </message>
    <message>
        <source>--set %1: name=value expected (ignored).</source>
        <translation>--set %1 : nom=valeur attendu (ignoré).</translation>
    </message>
    <message>
        <source>%1 cannot be read (%2); the defaults are used.</source>
        <translation>%1 ne peut pas être lu (%2) ; les réglages par défaut s’appliquent.</translation>
    </message>
    <message>
        <source>%1 is not a valid settings file (%2); the defaults are used.</source>
        <translation>%1 n’est pas un fichier de réglages valide (%2) ; les réglages par défaut s’appliquent.</translation>
    </message>
    <message>
        <source>%1: “%2” should be a [section] of settings (ignored).</source>
        <translation>%1 : « %2 » devrait être une [section] de réglages (ignoré).</translation>
    </message>
    <message>
        <source>one of %1</source>
        <translation>l’une des valeurs %1</translation>
    </message>
    <message>
        <source>true or false</source>
        <translation>vrai ou faux</translation>
    </message>
    <message>
        <source>a whole number from %1 to %2</source>
        <translation>un nombre entier de %1 à %2</translation>
    </message>
    <message>
        <source>a list of texts, like [&quot;A&quot;, &quot;B&quot;]</source>
        <translation>une liste de textes, comme [&quot;A&quot;, &quot;B&quot;]</translation>
    </message>
    <message>
        <source>a text in quotes</source>
        <translation>un texte entre guillemets</translation>
    </message>
</context>
</TS>
