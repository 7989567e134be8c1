<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue this prompt (Ctrl+Enter)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n prompt(s) queued</source>
        <translation>
            <numerusform>%n prompt queued</numerusform>
            <numerusform>%n prompts queued</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>Imported %n prompt</numerusform>
            <numerusform>Imported %n prompts</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n line could not be imported; the rest were queued.</numerusform>
            <numerusform>%n lines could not be imported; the rest were queued.</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
