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
    <message>
        <source>Choose at least one device to render on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>starting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1/%2, %3 it/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Defaults for prompts that do not set their own</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop rendering; unfinished prompts go back to the queue</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Rendering: %n image(s) made; waiting for prompts</source>
        <translation>
            <numerusform>Rendering: %n image made; waiting for prompts</numerusform>
            <numerusform>Rendering: %n images made; waiting for prompts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Rendering: %n image(s) made, %1 queued, %2 failed</source>
        <translation>
            <numerusform>Rendering: %n image made, %1 queued, %2 failed</numerusform>
            <numerusform>Rendering: %n images made, %1 queued, %2 failed</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
